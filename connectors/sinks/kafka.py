"""The one Kafka producer helper for the project.

Keyed records, ``acks=all``, retries and idempotence, so a broker hiccup neither loses nor
duplicates records and per-key order holds. At most ``max_in_flight`` records wait for their
acknowledgement at any time: ``produce`` blocks (back-pressure on the caller, e.g. the
websocket reader) rather than letting the buffer grow, and raises ``BackPressureTimeout``
when the broker does not catch up within ``block_timeout`` seconds.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.partitioner import DefaultPartitioner

from connectors.sinks.deadletter import dead_letter_record
from streamlines.connections import kafka_client_config, kafka_errors
from streamlines.contracts.events import Event
from streamlines.contracts.topics import dead_letter_topic
from streamlines.settings import Settings

log = logging.getLogger(__name__)


class BackPressureTimeout(RuntimeError):
    """The in-flight buffer stayed full for longer than the producer's block timeout."""


@dataclass
class Counters:
    sent: int = 0
    acked: int = 0
    failed: int = 0
    dead_lettered: int = 0


class KeyPartitioner(DefaultPartitioner):
    """kafka-python's default choice (murmur2 of the key, as the Java client), remembered per
    topic, key and partition count: its pure-Python murmur2 and the metadata sets it builds on
    every record cost ~10 µs a record, and a producer sends many records of few keys. Kafka
    numbers a topic's partitions 0..n-1, so the count decides the choice."""

    def __init__(self) -> None:
        self._chosen: dict[tuple[str, bytes, int], int] = {}

    def partition(
        self,
        topic: str,
        key: Any,
        serialized_key: bytes | None,
        value: Any,
        serialized_value: Any,
        cluster: Any,
    ) -> int:
        partitions = cluster.partitions_for_topic(topic)
        if serialized_key is None or not partitions:
            return super().partition(topic, key, serialized_key, value, serialized_value, cluster)
        cache_key = (topic, bytes(serialized_key), len(partitions))
        chosen = self._chosen.get(cache_key)
        if chosen is None:
            chosen = super().partition(topic, key, serialized_key, value, serialized_value, cluster)
            if len(self._chosen) >= 100_000:
                self._chosen.clear()
            self._chosen[cache_key] = chosen
        return chosen


def producer_settings(
    kafka: Settings | str, block_timeout: float, client_id: str
) -> dict[str, Any]:
    """The producer's configuration: where Kafka is and how to log in (``kafka_client_config``:
    the settings, or a PLAINTEXT broker's bootstrap servers), and how to deliver."""
    return {
        **kafka_client_config(kafka),
        "client_id": client_id,
        "acks": "all",
        "retries": 2**31 - 1,  # bounded by delivery_timeout_ms instead
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,  # idempotence keeps order up to 5
        "linger_ms": 5,
        "delivery_timeout_ms": 120_000,
        "max_block_ms": int(block_timeout * 1000),
        "bootstrap_timeout_ms": int(min(block_timeout, 30.0) * 1000),
        "partitioner": KeyPartitioner(),
    }


class KafkaSink:
    def __init__(
        self,
        kafka: Settings | str,
        *,
        max_in_flight: int = 10_000,
        block_timeout: float = 60.0,
        client_id: str = "streamlines",
        producer: Any | None = None,
        **producer_config: Any,
    ) -> None:
        """``kafka``: the settings (their Kafka address and security), or the bootstrap
        servers of a PLAINTEXT broker. ``producer`` replaces the KafkaProducer (unit tests);
        ``producer_config`` overrides entries of ``producer_settings``."""
        if producer is None:
            config = producer_settings(kafka, block_timeout, client_id) | producer_config
            with kafka_errors(config):
                producer = KafkaProducer(**config)
        self._producer = producer
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._block_timeout = block_timeout
        self._lock = threading.Lock()
        self.counters = Counters()
        self.max_in_flight = max_in_flight

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self.counters.sent - self.counters.acked - self.counters.failed

    def produce(self, topic: str, key: bytes | None, value: bytes) -> None:
        if not self._slots.acquire(timeout=self._block_timeout):
            raise BackPressureTimeout(
                f"{self.max_in_flight} records waited over {self._block_timeout:.0f} s "
                f"for Kafka to acknowledge them"
            )
        with self._lock:
            self.counters.sent += 1
        try:
            future = self._producer.send(topic, key=key, value=value)
        except BaseException:
            with self._lock:
                self.counters.sent -= 1
            self._slots.release()
            raise
        future.add_callback(self._on_ack)
        future.add_errback(self._on_error, topic)

    def send(self, topic: str, event: Event) -> None:
        self.produce(topic, event.key(), event.to_wire())

    def dead_letter(self, topic: str, reason: str, raw: Any, source: str) -> None:
        self.produce(dead_letter_topic(topic), None, dead_letter_record(reason, raw, source))
        with self._lock:
            self.counters.dead_lettered += 1

    def _on_ack(self, _metadata: Any) -> None:
        with self._lock:
            self.counters.acked += 1
        self._slots.release()

    def _on_error(self, exc: BaseException, topic: str) -> None:
        with self._lock:
            self.counters.failed += 1
        self._slots.release()
        log.error("record to %s not delivered: %s", topic, exc)

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        self._producer.close(timeout)


def ensure_topics(
    kafka: Settings | str, names: list[str], partitions: int = 1, timeout: float = 30.0
) -> list[str]:
    """Create the topics that do not exist yet (``partitions`` each) on the Kafka of ``kafka``
    (the settings, or a PLAINTEXT broker's bootstrap servers); returns those created.

    Producers should not rely on the broker's auto-creation: a real cluster usually has it off,
    and where it is on, a topic gets the broker's default partition count."""
    config = kafka_client_config(kafka)
    with kafka_errors(config):
        admin = KafkaAdminClient(
            **config, client_id="streamlines-topics", bootstrap_timeout_ms=int(timeout * 1000)
        )
        return _create_missing(admin, names, partitions)


def _create_missing(admin: KafkaAdminClient, names: list[str], partitions: int) -> list[str]:
    try:
        missing = [n for n in dict.fromkeys(names) if n not in set(admin.list_topics())]
        created = []
        for name in missing:
            try:
                admin.create_topics(
                    [NewTopic(name, num_partitions=partitions, replication_factor=1)]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass  # someone else made it meanwhile
        if created:
            log.info("created topics %s (%d partition(s) each)", ", ".join(created), partitions)
        return created
    finally:
        admin.close()
