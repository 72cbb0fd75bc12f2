"""What the stream fault tests (tests/faults: websocket drop, hostile messages) share: ingest
run in-process against a replay server of the test's own into topics of the test's own on the
shared stack's Kafka, and reading those topics back."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from connectors.alpaca.stream import endpoints
from connectors.ingest.router import Router, Topics
from connectors.ingest.service import Ingest, build_sink
from connectors.topic_reader import read_to_end
from streamlines.contracts.topics import dead_letter_topic
from streamlines.settings import Settings
from streamlines.stack.manager import Stack
from tests.support.replay import ReplayServer


def shared_kafka(settings: Settings) -> str:
    """The shared stack's Kafka bootstrap address; the test fails (it cannot prove anything)
    when Kafka is not healthy. The stack is shared: never started or stopped here."""
    from rich.console import Console

    states = {s.name: s.state for s in Stack(settings, Console(stderr=True)).status()}
    assert states.get("kafka") == "healthy", (
        f"the shared stack's Kafka is {states.get('kafka')}: start it with "
        "`streamlines stack up kafka`"
    )
    return settings.kafka_bootstrap


@contextmanager
def ingest_topics(settings: Settings, name: str) -> Iterator[Topics]:
    """Trades, quotes and bars topics named after ``name`` (and their DLQs), deleted after."""
    prefix = f"t-{name}-{uuid.uuid4().hex[:8]}"
    topics = Topics(f"{prefix}.trades", f"{prefix}.quotes", f"{prefix}.bars")
    try:
        yield topics
    finally:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        try:
            existing = set(admin.list_topics())
            admin.delete_topics([t for t in topics.with_dead_letters() if t in existing])
        except KafkaError as exc:  # clean-up only: the test's own result stands
            warnings.warn(f"could not delete {prefix}*: {exc}", stacklevel=1)
        finally:
            admin.close()


def ingest_settings(settings: Settings, replay: ReplayServer, topics: Topics) -> Settings:
    return settings.model_copy(
        update={
            "replay_address": replay.http,
            "alpaca_api_key": None,
            "alpaca_secret_key": None,
            "ingest_topic_trades": topics.trades,
            "ingest_topic_quotes": topics.quotes,
            "ingest_topic_bars": topics.bars,
        }
    )


@contextmanager
def running_ingest(settings: Settings, symbols: list[str]) -> Iterator[Ingest]:
    """`streamlines ingest`'s service on ``symbols`` (stocks), started; stopped and flushed on
    exit."""
    topics = Topics.from_settings(settings)
    sink = build_sink("kafka", settings, topics)
    run = Ingest(endpoints(settings), sink, topics, symbols, [], settings)
    run.start()
    try:
        yield run
    finally:
        try:
            run.stop()
        finally:
            sink.close()


def wait_for(what: str, done: Callable[[], bool], timeout: float, router: Router) -> float:
    """Seconds until ``done()`` holds; fails the test after ``timeout`` or when ingest fails."""
    started = time.monotonic()
    while not done():
        assert not router.failed.is_set(), f"ingest failed: {router.error}"
        assert time.monotonic() - started < timeout, (
            f"no {what} within {timeout} s: {router.counts}"
        )
        time.sleep(0.05)
    return time.monotonic() - started


def values(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record of ``topic`` up to its end, decoded from JSON."""
    return [json.loads(r.value) for r in read_to_end(bootstrap, topic)]


def dead_letters(bootstrap: str, topics: Topics) -> list[dict[str, Any]]:
    """Every dead-letter record of the trades, quotes and bars topics."""
    return [v for t in topics.all() for v in values(bootstrap, dead_letter_topic(t))]
