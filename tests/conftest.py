"""Shared test set-up. A test's tier is its folder: tests/unit, tests/integration (marked
``integration``) or tests/e2e (marked ``e2e``), so ``-m "not e2e"`` and the like select by tier.
tests/integration and tests/e2e use one real local stack per session: started if it is not up,
stopped afterwards if this session started it (set STREAMLINES_KEEP_STACK=1 to leave it running
for the next run)."""

from __future__ import annotations

import os
import re
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from influxdb_client import BucketRetentionRules, InfluxDBClient
from kafka.admin import KafkaAdminClient
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from rich.console import Console

from streamlines.settings import Settings
from streamlines.stack.manager import Stack
from tests.support.kafka import read_first

# Fixtures that start a replay server (replay_server, replay), and fresh metadata databases
# with users and keys (metadata_url, keys, ...), for the tests that need them.
pytest_plugins = ["tests.support.replay", "tests.support.metadata"]


TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, from the folder it is in."""
    for item in items:
        parts = item.path.relative_to(Path(__file__).parent).parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Iterator[str]:
    """A name no other test (or earlier run) uses: for topics, buckets, streams. After a test
    on the stack, the Kafka topics named with it (it, or it plus a suffix) are deleted, so
    runs do not pile up topics in the stack's Kafka."""
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]
    name = f"t-{base}-{uuid.uuid4().hex[:8]}"
    yield name
    if "stack" in request.fixturenames:
        delete_topics_starting_with(request.getfixturevalue("settings").kafka_bootstrap, name)


def delete_topics_starting_with(bootstrap: str, prefix: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-cleanup")
    try:
        topics = [t for t in admin.list_topics() if t.startswith(prefix)]
        if topics:
            admin.delete_topics(topics)
    except KafkaError as exc:  # clean-up only: the test's own result stands
        warnings.warn(f"could not delete the test's topics {prefix}*: {exc}", stacklevel=1)
    finally:
        admin.close()


@pytest.fixture(scope="session", autouse=True)
def _session_metadata_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Servers the tests start get a metadata database of this session, not the user's
    (~/.cache/streamlines/streamlines.db): a server marks the jobs it finds running as
    interrupted, which would hit a demo's running jobs. Tests that need their own pass
    STREAMLINES_DATABASE_URL to the server."""
    if "STREAMLINES_DATABASE_URL" in os.environ:
        yield
        return
    folder = tmp_path_factory.mktemp("metadata")
    os.environ["STREAMLINES_DATABASE_URL"] = f"sqlite:///{folder / 'metadata.db'}"
    try:
        yield
    finally:
        os.environ.pop("STREAMLINES_DATABASE_URL", None)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Iterator[Stack]:
    stack = Stack(settings, Console(stderr=True))
    was_up = {st.name for st in stack.status() if st.state == "healthy"}
    statuses = stack.up()
    assert all(st.state == "healthy" for st in statuses), statuses
    yield stack
    if os.environ.get("STREAMLINES_KEEP_STACK") != "1":
        started = [st.name for st in stack.status() if st.name not in was_up]
        if started:
            stack.down(started)


@pytest.fixture
def read_topic(stack: Stack, settings: Settings) -> Callable[..., list[ConsumerRecord]]:
    """``read_topic(topic, count)``: the first ``count`` records of a topic, from the start;
    fewer if none arrive for ``idle_ms``."""

    def read(topic: str, count: int, idle_ms: int = 10_000) -> list[ConsumerRecord]:
        return read_first(settings.kafka_bootstrap, topic, count, idle_ms)

    return read


@pytest.fixture
def influx(stack: Stack, settings: Settings) -> Iterator[InfluxDBClient]:
    """An influxdb-client for the stack's InfluxDB."""
    with InfluxDBClient(
        url=settings.influx_url,
        token=settings.influx_token.get_secret_value(),
        org=settings.influx_org,
    ) as client:
        yield client


@pytest.fixture
def make_bucket(
    influx: InfluxDBClient, settings: Settings, unique_name: str
) -> Iterator[Callable[[str], str]]:
    """``make_bucket(kind)``: a bucket of the test's own named ``<unique name>-<kind>``, with the
    shard groups the stack gives bucket ``kind`` (``market``: years of bars in a few shards),
    deleted afterwards."""
    api = influx.buckets_api()
    created = []

    def make(kind: str) -> str:
        seconds = settings.influx_shard_group_seconds.get(kind)
        rules = None
        if seconds is not None:
            rules = BucketRetentionRules(type="expire", every_seconds=0,
                                         shard_group_duration_seconds=seconds)  # fmt: skip
        created.append(
            api.create_bucket(bucket_name=f"{unique_name}-{kind}", retention_rules=rules)
        )
        return created[-1].name

    yield make
    for bucket in created:
        api.delete_bucket(bucket)


@pytest.fixture
def bucket(make_bucket: Callable[[str], str]) -> str:
    """An analytics bucket of the test's own, deleted afterwards."""
    return make_bucket("analytics")
