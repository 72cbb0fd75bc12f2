"""Kafka in a test: writing events as the connectors do (keyed by symbol, in the wire format of
``streamlines.contracts.events``, acknowledged by every replica), and reading back what the
jobs write to the analytics topics."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord

from streamlines.contracts.events import Event

AnalyticsRecords = dict[str, dict[tuple[str, int], dict[str, Any]]]


def produce(bootstrap: str, topic: str, events: Sequence[Event]) -> None:
    """Sends ``events`` to ``topic`` in order and waits until Kafka has them."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    for event in events:
        producer.send(topic, key=event.key(), value=event.to_wire())
    producer.flush(timeout=60)
    producer.close()


def analytics_by_metric(records: Iterable[ConsumerRecord]) -> AnalyticsRecords:
    """The ``values`` of analytics records (``{"symbol", "metric", "t_ns", "values"}``) by
    metric and (symbol, t_ns); fails the test on a record not keyed by its symbol or on a
    repeated (metric, symbol, t_ns)."""
    by_metric: AnalyticsRecords = {}
    for record in records:
        value = json.loads(record.value)
        assert record.key == value["symbol"].encode()
        metric = by_metric.setdefault(value["metric"], {})
        key = (value["symbol"], value["t_ns"])
        assert key not in metric, f"duplicate {value}"
        metric[key] = value["values"]
    return by_metric
