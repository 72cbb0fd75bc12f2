"""Kafka in a test: writing events as the connectors do (keyed by symbol, in the wire format of
``streamlines.contracts.events``, acknowledged by every replica), and reading back what the
jobs write to the analytics topics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord

from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.indicators import expand


class Record(Protocol):
    """What ``produce`` sends: an event of ``streamlines.contracts.events``, or a test's own
    record in that shape."""

    def key(self) -> bytes: ...

    def to_wire(self) -> bytes: ...


AnalyticsRecords = dict[str, dict[tuple[str, int], dict[str, Any]]]


def produce(bootstrap: str, topic: str, events: Sequence[Record]) -> None:
    """Sends ``events`` to ``topic`` in order and waits until Kafka has them."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    for event in events:
        producer.send(topic, key=event.key(), value=event.to_wire())
    producer.flush(timeout=60)
    producer.close()


def read_first(
    bootstrap: str, topic: str, count: int, idle_ms: int = 10_000
) -> list[ConsumerRecord]:
    """The first ``count`` records of ``topic``, from the start; fewer if none arrive for
    ``idle_ms``."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=idle_ms,
    )  # fmt: skip
    records = []
    try:
        for record in consumer:
            records.append(record)
            if len(records) >= count:
                break
    finally:
        consumer.close()
    return records


def analytics_by_metric(records: Iterable[ConsumerRecord]) -> AnalyticsRecords:
    """The ``values`` of analytics records (``{"symbol", "metric", "t_ns", "values"}``) by
    metric and (symbol, t_ns), as they are stored (the currents job's per-bar record as the
    records of its families: ``streamlines.contracts.indicators.expand``); fails the test on a
    record not keyed by its symbol or on a repeated (metric, symbol, t_ns)."""
    by_metric: AnalyticsRecords = {}
    for record in records:
        wire = AnalyticsRecord.from_wire(record.value)
        assert record.key == wire.symbol.encode()
        for stored in expand(wire):
            metric = by_metric.setdefault(stored.metric, {})
            key = (stored.symbol, stored.t_ns)
            assert key not in metric, f"duplicate {stored}"
            metric[key] = stored.values
    return by_metric
