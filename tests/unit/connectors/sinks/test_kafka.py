"""The Kafka producer helper: settings that lose nothing, back-pressure, counters, DLQ.
A stand-in for confluent-kafka's Producer holds delivery reports back (librdkafka hands them
out from ``poll`` only) so the buffer's bound can be seen."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from kafka.record import util

from connectors.sinks.kafka import BackPressureTimeout, FlushTimeout, KafkaSink, producer_settings
from streamlines.contracts.events import Trade

Report = Callable[[KafkaError | None, Any], None]


class Delivered:
    """The message a delivery report names."""

    def __init__(self, topic: str) -> None:
        self._topic = topic

    def topic(self) -> str:
        return self._topic


class HeldProducer:
    """confluent-kafka's Producer as the sink uses it: at most ``limit`` records (its
    ``queue.buffering.max.messages``) wait for acknowledgement until ``poll`` serves their
    delivery reports, which the test releases with ``ack`` and ``fail``."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.waiting: list[tuple[str, Report]] = []
        self.reports: list[tuple[KafkaError | None, str, Report]] = []
        self.lock = threading.Lock()
        self.closed = False

    def produce(
        self, topic: str, value: bytes, key: bytes | None = None, on_delivery: Report | None = None
    ) -> None:
        assert on_delivery is not None
        assert not self.closed
        with self.lock:
            if len(self.waiting) + len(self.reports) >= self.limit:
                raise BufferError("Local: Queue full")
            self.sent.append((topic, key, value))
            self.waiting.append((topic, on_delivery))

    def ack(self, error: KafkaError | None = None) -> None:
        with self.lock:
            topic, report = self.waiting.pop(0)
            self.reports.append((error, topic, report))

    def fail(self, error: KafkaError) -> None:
        self.ack(error)

    def poll(self, timeout: float = -1) -> int:
        with self.lock:
            served, self.reports = self.reports, []
        for error, topic, report in served:
            report(error, Delivered(topic))
        if not served:
            time.sleep(min(timeout, 0.005))
        return len(served)

    def flush(self, timeout: float = -1) -> int:
        self.poll(0)
        return len(self.waiting)

    def purge(self) -> None:
        while self.waiting:
            self.fail(KafkaError(KafkaError._PURGE_QUEUE))

    def close(self) -> None:
        self.closed = True


def trade(price: float) -> Trade:
    return Trade(symbol="GOOG", t_ns=1_000, price=price, size=1)


def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.001)


def test_settings_that_lose_nothing_and_keep_the_java_clients_partitions():
    config = producer_settings("h:1", 500, "me")
    assert config["bootstrap.servers"] == "h:1"
    assert config["client.id"] == "me"
    assert config["acks"] == "all"
    assert config["enable.idempotence"] is True
    assert config["queue.buffering.max.messages"] == 500
    assert config["partitioner"] == "murmur2_random"
    Producer(config | {"logger": logging.getLogger("test")})  # librdkafka knows each name


def test_keyed_by_symbol_and_counted_as_the_polling_thread_serves_the_reports():
    producer = HeldProducer()
    sink = KafkaSink("unused", producer=producer)
    sink.send("t1", trade(1.5))
    assert producer.sent == [("t1", b"GOOG", trade(1.5).to_wire())]
    assert sink.in_flight == 1
    producer.ack()
    eventually(lambda: sink.in_flight == 0)
    assert (sink.counters.sent, sink.counters.acked) == (1, 1)
    sink.close()


def test_a_full_buffer_blocks_then_times_out_and_an_ack_frees_a_slot():
    producer = HeldProducer(limit=2)
    sink = KafkaSink("unused", producer=producer, max_in_flight=2, block_timeout=0.05)
    sink.send("t", trade(1))
    sink.send("t", trade(2))
    started = time.monotonic()
    with pytest.raises(BackPressureTimeout, match="2 records waited"):
        sink.send("t", trade(3))
    assert time.monotonic() - started >= 0.05
    assert (len(producer.sent), sink.counters.sent, sink.in_flight) == (2, 2, 2)
    producer.ack()
    sink.send("t", trade(3))
    assert len(producer.sent) == 3


def test_a_blocked_produce_goes_on_once_acknowledgements_come_in():
    producer = HeldProducer(limit=1)
    sink = KafkaSink("unused", producer=producer, max_in_flight=1, block_timeout=5.0)
    sink.send("t", trade(1))
    threading.Timer(0.05, producer.ack).start()
    started = time.monotonic()
    sink.send("t", trade(2))
    assert 0.04 <= time.monotonic() - started < 1.0
    assert len(producer.sent) == 2


def test_a_failed_delivery_is_counted_logged_and_frees_its_slot(caplog):
    producer = HeldProducer(limit=1)
    sink = KafkaSink("unused", producer=producer, max_in_flight=1, block_timeout=1.0)
    sink.send("t", trade(1))
    producer.fail(KafkaError(KafkaError._MSG_TIMED_OUT, "Message timed out"))
    eventually(lambda: "record to t not delivered: Message timed out" in caplog.text)
    assert sink.counters.failed == 1
    sink.send("t", trade(2))
    assert sink.in_flight == 1


def test_dead_letter_goes_to_the_dlq_topic():
    producer = HeldProducer()
    sink = KafkaSink("unused", producer=producer)
    sink.dead_letter("market.trades", "invalid trade: price", {"p": -1}, "replay")
    topic, key, value = producer.sent[0]
    assert (topic, key) == ("market.trades.dlq", None)
    assert json.loads(value)["reason"] == "invalid trade: price"
    assert sink.counters.dead_lettered == 1


def test_flush_raises_when_records_are_still_waiting_and_close_fails_them():
    producer = HeldProducer()
    sink = KafkaSink("unused", producer=producer)
    sink.send("t", trade(1))
    sink.send("t", trade(2))
    producer.ack()
    with pytest.raises(FlushTimeout, match="1 records"):
        sink.flush(0.01)
    sink.close(0.01)
    assert (sink.counters.acked, sink.counters.failed, sink.in_flight) == (1, 1, 0)
    assert producer.closed
    sink.close()  # again: nothing


def test_an_unknown_override_is_refused_by_librdkafka():
    """Overrides are librdkafka properties with ``_`` for ``.``."""
    with pytest.raises(KafkaException, match=r"no\.such\.property"):
        KafkaSink("127.0.0.1:9", linger_ms=50, no_such_property=1)


def test_kafka_python_computes_record_checksums_in_c():
    """Without the ``crc32c`` package (kafka-python's ``crc32c`` extra) every record batch's
    CRC-32C is computed in pure Python: 0.12 µs a byte, ~40 µs per record of ~330 bytes."""
    assert util.crc32c_c is not None, "install kafka-python[crc32c] (scripts/bootstrap.sh does)"
