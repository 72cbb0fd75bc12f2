"""The Kafka producer helper: settings that lose nothing, back-pressure, counters, DLQ.
A stand-in producer holds acknowledgements back so the buffer's bound can be seen."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kafka.partitioner import DefaultPartitioner, default
from kafka.record import util

from connectors.sinks.kafka import (
    BackPressureTimeout,
    KafkaSink,
    KeyPartitioner,
    producer_settings,
)
from streamlines.contracts.events import Trade


class PendingFuture:
    def __init__(self) -> None:
        self.callbacks: list[Any] = []
        self.errbacks: list[Any] = []

    def add_callback(self, fn: Any, *args: Any) -> None:
        self.callbacks.append((fn, args))

    def add_errback(self, fn: Any, *args: Any) -> None:
        self.errbacks.append((fn, args))

    def ack(self) -> None:
        for fn, args in self.callbacks:
            fn("metadata", *args)

    def fail(self, exc: Exception) -> None:
        for fn, args in self.errbacks:
            fn(exc, *args)


class HeldProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.futures: list[PendingFuture] = []

    def send(self, topic: str, key: bytes | None, value: bytes) -> PendingFuture:
        self.sent.append((topic, key, value))
        self.futures.append(PendingFuture())
        return self.futures[-1]


def trade(price: float) -> Trade:
    return Trade(symbol="GOOG", t_ns=1_000, price=price, size=1)


def test_settings_that_lose_nothing():
    config = producer_settings("h:1", 30.0, "me")
    assert config["acks"] == "all"
    assert config["enable_idempotence"] is True
    assert config["retries"] > 1_000
    assert config["max_in_flight_requests_per_connection"] <= 5
    assert config["max_block_ms"] == 30_000


def test_keyed_by_symbol_and_counted():
    producer = HeldProducer()
    sink = KafkaSink("unused", producer=producer)
    sink.send("t1", trade(1.5))
    assert producer.sent == [("t1", b"GOOG", trade(1.5).to_wire())]
    assert sink.in_flight == 1
    producer.futures[0].ack()
    assert (sink.counters.sent, sink.counters.acked, sink.in_flight) == (1, 1, 0)


def test_a_full_buffer_blocks_then_times_out_and_an_ack_frees_a_slot():
    producer = HeldProducer()
    sink = KafkaSink("unused", producer=producer, max_in_flight=2, block_timeout=0.05)
    sink.send("t", trade(1))
    sink.send("t", trade(2))
    with pytest.raises(BackPressureTimeout):
        sink.send("t", trade(3))
    assert len(producer.sent) == 2
    producer.futures[0].ack()
    sink.send("t", trade(3))
    assert len(producer.sent) == 3


def test_a_failed_delivery_is_counted_and_frees_its_slot():
    producer = HeldProducer()
    sink = KafkaSink("unused", producer=producer, max_in_flight=1, block_timeout=0.05)
    sink.send("t", trade(1))
    producer.futures[0].fail(RuntimeError("broker gone"))
    assert sink.counters.failed == 1
    sink.send("t", trade(2))


def test_dead_letter_goes_to_the_dlq_topic():
    producer = HeldProducer()
    sink = KafkaSink("unused", producer=producer)
    sink.dead_letter("market.trades", "invalid trade: price", {"p": -1}, "replay")
    topic, _key, value = producer.sent[0]
    assert topic == "market.trades.dlq"
    assert json.loads(value)["reason"] == "invalid trade: price"
    assert sink.counters.dead_lettered == 1


class Cluster:
    """kafka-python's ClusterMetadata, as far as a partitioner reads it."""

    def __init__(self, partitions: dict[str, int]) -> None:
        self.partitions = partitions

    def topics(self) -> set[str]:
        return set(self.partitions)

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        n = self.partitions.get(topic)
        return None if n is None else set(range(n))

    def available_partitions_for_topic(self, topic: str) -> set[int] | None:
        return self.partitions_for_topic(topic)


def test_key_partitioner_chooses_as_kafka_pythons_default_and_remembers(monkeypatch):
    cluster = Cluster({"one": 1, "six": 6, "many": 48})
    keys = [f"SYN{k:04d}".encode() for k in range(300)] + [b"GOOG", b"BTC/USD", b""]
    ours, theirs = KeyPartitioner(), DefaultPartitioner()
    for topic in cluster.partitions:
        for key in keys:
            expected = theirs.partition(topic, key, key, None, b"v", cluster)
            assert ours.partition(topic, key, key, None, b"v", cluster) == expected

    remembered = ours.partition("six", b"GOOG", b"GOOG", None, b"v", cluster)

    def no_hashing(data: bytes) -> int:
        raise AssertionError("hashed again")

    monkeypatch.setattr(default, "murmur2", no_hashing)
    assert ours.partition("six", b"GOOG", b"GOOG", None, b"v", cluster) == remembered
    cluster.partitions["six"] = 7  # partitions added: chosen afresh
    with pytest.raises(AssertionError, match="hashed again"):
        ours.partition("six", b"GOOG", b"GOOG", None, b"v", cluster)


def test_key_partitioner_without_a_key_or_topic_is_the_default():
    cluster = Cluster({"six": 6})
    assert KeyPartitioner().partition("six", None, None, None, b"v", cluster) in range(6)
    with pytest.raises(ValueError, match="not found"):
        KeyPartitioner().partition("nope", b"k", b"k", None, b"v", cluster)


def test_the_producer_uses_the_key_partitioner():
    assert isinstance(producer_settings("h:1", 1.0, "me")["partitioner"], KeyPartitioner)


def test_kafka_python_computes_record_checksums_in_c():
    """Without the ``crc32c`` package (kafka-python's ``crc32c`` extra) every record batch's
    CRC-32C is computed in pure Python: 0.12 µs a byte, ~40 µs per record of ~330 bytes."""
    assert util.crc32c_c is not None, "install kafka-python[crc32c] (scripts/bootstrap.sh does)"
