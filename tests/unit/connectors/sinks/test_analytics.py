"""The analytics sink: which records it takes, the measurement it writes them as, and its pause
while InfluxDB is unavailable (Kafka and InfluxDB faked; tests/faults stops a real InfluxDB)."""

from __future__ import annotations

import logging
import threading
from types import SimpleNamespace
from typing import Any, cast

import pytest
from kafka import TopicPartition

from connectors.sinks.analytics import SinkCounters, measurement_for, write_or_pause
from connectors.sinks.influx import InfluxUnavailable
from streamlines.contracts.events import AnalyticsRecord, SchemaError
from streamlines.errors import UserError


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"symbol":"GOOG","t_ns":1,"values":{}}', "metric: Field required"),
        (b'{"symbol":"GOOG","metric":"x","t_ns":1,"values":{"a":"high"}}', "values.a"),
        (b"not json", "invalid analytics record"),
    ],
)
def test_bad_records_say_why(payload, reason):
    with pytest.raises(SchemaError, match=reason):
        AnalyticsRecord.from_wire(payload)


def test_measurement_is_the_contracts_or_the_one_given():
    assert measurement_for("analytics.ripples") == "ripples"
    assert measurement_for("analytics.currents") == "currents"
    assert measurement_for("analytics.predictions") == "predictions"
    assert measurement_for("t-abc.ripples", "ripples") == "ripples"
    with pytest.raises(UserError, match=r"'t-abc\.ripples' is not a known analytics topic") as info:
        measurement_for("t-abc.ripples")
    assert info.value.hint == "name it: --measurement ripples (or currents, beacons, predictions)"


class FlakyWriter:
    """An InfluxWriter that is unavailable ``outages`` times, then takes every point."""

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.calls = 0

    def write(self, points: list[str]) -> int:
        self.calls += 1
        if self.outages:
            self.outages -= 1
            raise InfluxUnavailable("cannot reach InfluxDB: Connection refused", "start it")
        return len(points)


class PausableConsumer:
    """What the sink asks of its KafkaConsumer while paused; polls return nothing."""

    def __init__(self) -> None:
        self.partitions = {TopicPartition("t", 0), TopicPartition("t", 1)}
        self.paused_partitions: set[TopicPartition] = set()
        self.polls = 0
        self.resumed = False

    def assignment(self) -> set[TopicPartition]:
        return self.partitions

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused_partitions |= set(partitions)

    def paused(self) -> set[TopicPartition]:
        return self.paused_partitions

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused_partitions -= set(partitions)
        self.resumed = True

    def poll(self, timeout_ms: int) -> dict:
        assert self.paused_partitions == self.partitions, "polled while not paused"
        self.polls += 1
        return {}


def records_at(*where: tuple[int, int]) -> list[SimpleNamespace]:
    return [SimpleNamespace(topic="t", partition=p, offset=o) for p, o in where]


def write(
    writer: FlakyWriter,
    consumer: PausableConsumer,
    records: list[SimpleNamespace],
    stop: threading.Event,
    counters: SinkCounters,
    retry_s: float = 0.01,
) -> int | None:
    """``write_or_pause`` on the fakes, one point a record."""
    points = cast(Any, ["p"] * len(records))
    return write_or_pause(
        cast(Any, writer), points, cast(Any, consumer), cast(Any, records), stop, counters, retry_s
    )


def test_an_unavailable_influxdb_pauses_the_sink_until_it_takes_the_batch(caplog):
    writer, consumer, counters = FlakyWriter(outages=2), PausableConsumer(), SinkCounters()
    records = records_at((0, 7), (1, 3), (0, 8))
    with caplog.at_level(logging.WARNING):
        written = write(writer, consumer, records, threading.Event(), counters)
    assert written == 3
    assert writer.calls == 3
    assert counters.pauses == 1  # one pause, however many tries
    assert consumer.polls > 0
    assert consumer.resumed
    assert not consumer.paused_partitions
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("InfluxDB unavailable, paused at offset t[0]@7, t[1]@3")
    assert "InfluxDB back after" in messages[-1]


def test_a_sink_stopped_while_paused_writes_and_commits_nothing():
    writer, consumer, stop = FlakyWriter(outages=10**6), PausableConsumer(), threading.Event()
    stop.set()
    written = write(writer, consumer, records_at((0, 1)), stop, SinkCounters())
    assert written is None
    assert not consumer.resumed


def test_an_available_influxdb_is_written_without_a_pause():
    consumer = PausableConsumer()
    written = write(FlakyWriter(outages=0), consumer, records_at((0, 1)), threading.Event(),
                    SinkCounters())  # fmt: skip
    assert written == 1
    assert consumer.polls == 0
    assert not consumer.paused_partitions
