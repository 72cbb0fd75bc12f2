"""A GraphQL server on the real stack reading a bucket and a beacons topic of the test's own, and
the ways to put the beacons job's records there (its own writer and producer helpers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.sinks.influx import InfluxWriter
from connectors.sinks.kafka import KafkaSink, ensure_topics
from streamlines.child import graphql_server_process
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.influx import MEASUREMENT_BEACONS
from streamlines.contracts.points import analytics_point
from streamlines.settings import Settings
from streamlines.stack.manager import Stack


@pytest.fixture
def beacons_topic(stack: Stack, settings: Settings, unique_name: str) -> str:
    name = f"{unique_name}.beacons"
    ensure_topics(settings.kafka_bootstrap, [name])
    return name


@pytest.fixture
def server(stack: Stack, bucket: str, beacons_topic: str, tmp_path: Path) -> Iterator[str]:
    """The server's URL; its queries read ``bucket``, its subscriptions ``beacons_topic``."""
    env = {
        "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": bucket,
        "STREAMLINES_BEACONS_TOPIC": beacons_topic,
    }
    with graphql_server_process(env, log_path=tmp_path / "graphql.log") as url:
        yield url


@pytest.fixture
def store_beacons(settings: Settings, bucket: str) -> Callable[[list[AnalyticsRecord]], None]:
    """``store_beacons(records)``: written to ``bucket`` as the sink writes the beacons topic."""

    def store(records: list[AnalyticsRecord]) -> None:
        with InfluxWriter.from_settings(settings, bucket) as writer:
            writer.write(analytics_point(r, MEASUREMENT_BEACONS) for r in records)

    return store


@pytest.fixture
def publish_beacons(
    settings: Settings, beacons_topic: str
) -> Iterator[Callable[[list[AnalyticsRecord]], None]]:
    """``publish_beacons(records)``: sent to ``beacons_topic`` (key: the symbol) and flushed."""
    sink = KafkaSink(settings.kafka_bootstrap)

    def publish(records: list[AnalyticsRecord]) -> None:
        for record in records:
            sink.send(beacons_topic, record)
        sink.flush(30)

    yield publish
    sink.close(10)
