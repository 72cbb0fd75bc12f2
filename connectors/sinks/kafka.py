"""The one Kafka producer helper for the project: confluent-kafka's Producer (librdkafka).

Keyed records, ``acks=all``, retries and idempotence, so a broker hiccup neither loses nor
duplicates records and per-key order holds. Keys go to the partitions the Java client (and
kafka-python) choose: murmur2 of the key (``partitioner=murmur2_random``), which the Flink jobs
and other producers rely on. At most ``max_in_flight`` records wait for their acknowledgement
at any time (librdkafka's ``queue.buffering.max.messages``): ``produce`` blocks (back-pressure
on the caller, e.g. the websocket reader) rather than letting the buffer grow, and raises
``BackPressureTimeout`` when the broker does not catch up within ``block_timeout`` seconds.
librdkafka reports deliveries only from ``poll``: a thread of the sink's own polls.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from connectors.sinks.deadletter import dead_letter_record
from streamlines.connections import kafka_client_config, kafka_errors, kafka_librdkafka_config
from streamlines.contracts.events import Event
from streamlines.contracts.topics import dead_letter_topic
from streamlines.settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # the polling thread's wait for a delivery report
BLOCKED_POLL_SECONDS = 0.005  # a blocked produce's wait between tries


class BackPressureTimeout(RuntimeError):
    """The in-flight buffer stayed full for longer than the producer's block timeout."""


class FlushTimeout(RuntimeError):
    """Records still waited for their acknowledgement when ``flush``'s timeout was up."""


@dataclass
class Counters:
    sent: int = 0
    acked: int = 0
    failed: int = 0
    dead_lettered: int = 0


def producer_settings(kafka: Settings | str, max_in_flight: int, client_id: str) -> dict[str, Any]:
    """The producer's librdkafka configuration: where Kafka is and how to log in
    (``kafka_librdkafka_config``: the settings, or a PLAINTEXT broker's bootstrap servers),
    and how to deliver."""
    return {
        **kafka_librdkafka_config(kafka),
        "client.id": client_id,
        "acks": "all",
        # Retries without duplicates, and per-partition order kept across them (librdkafka
        # then retries until delivery.timeout.ms, at most 5 requests in flight).
        "enable.idempotence": True,
        "linger.ms": 5,
        "delivery.timeout.ms": 120_000,
        "queue.buffering.max.messages": max_in_flight,
        "partitioner": "murmur2_random",  # the Java client's murmur2 for keyed records
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
        servers of a PLAINTEXT broker. ``producer`` replaces confluent-kafka's Producer (unit
        tests); ``producer_config`` overrides librdkafka properties of ``producer_settings``,
        with ``_`` for ``.`` (``linger_ms=50`` is ``linger.ms``). Fails (a UserError) when
        Kafka does not answer within ``block_timeout`` (at most 30 s) or refuses the login."""
        self._block_timeout = block_timeout
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._connect_error: KafkaError | None = None
        self.counters = Counters()
        self.max_in_flight = max_in_flight
        if producer is None:
            config = producer_settings(kafka, max_in_flight, client_id) | {
                key.replace("_", "."): value for key, value in producer_config.items()
            }
            # librdkafka's log (connection failures and the like) goes to ours, not stderr.
            producer = Producer(config | {"error_cb": self._on_client_error, "logger": log})
            with kafka_errors(kafka_client_config(kafka)):
                self._connect(producer, min(block_timeout, 30.0))
        self._producer = producer
        self._poller = threading.Thread(
            target=self._poll_until_stopped, name=f"{client_id}-deliveries", daemon=True
        )
        self._poller.start()

    def _connect(self, producer: Producer, timeout: float) -> None:
        """librdkafka connects lazily: ask for the cluster's metadata now, so that a wrong
        address or login fails here rather than in every record's delivery report."""
        try:
            producer.list_topics(timeout=timeout)
        except KafkaException as exc:
            producer.poll(0)  # serves the errors librdkafka met meanwhile (_on_client_error)
            producer.close()  # it would go on trying to connect
            raise KafkaException(self._connect_error or exc.args[0]) from None

    def _on_client_error(self, error: KafkaError) -> None:
        """librdkafka's errors (it logs them too): why a connection failed."""
        if error.code() in (KafkaError._AUTHENTICATION, KafkaError._SSL):
            self._connect_error = error

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self.counters.sent - self.counters.acked - self.counters.failed

    def produce(self, topic: str, key: bytes | None, value: bytes) -> None:
        with self._lock:
            self.counters.sent += 1
        try:
            self._producer.produce(topic, value=value, key=key, on_delivery=self._on_delivery)
        except BufferError:
            self._produce_when_acknowledged(topic, key, value)
        except BaseException:
            self._unsent()
            raise

    def _produce_when_acknowledged(self, topic: str, key: bytes | None, value: bytes) -> None:
        """``max_in_flight`` records are waiting: try again as acknowledgements come in."""
        deadline = time.monotonic() + self._block_timeout
        try:
            while time.monotonic() < deadline:
                self._producer.poll(BLOCKED_POLL_SECONDS)
                try:
                    self._producer.produce(
                        topic, value=value, key=key, on_delivery=self._on_delivery
                    )
                    return
                except BufferError:
                    pass
        except BaseException:
            self._unsent()
            raise
        self._unsent()
        raise BackPressureTimeout(
            f"{self.max_in_flight} records waited over {self._block_timeout:.0f} s "
            f"for Kafka to acknowledge them"
        )

    def _unsent(self) -> None:
        with self._lock:
            self.counters.sent -= 1

    def send(self, topic: str, event: Event) -> None:
        self.produce(topic, event.key(), event.to_wire())

    def dead_letter(self, topic: str, reason: str, raw: Any, source: str) -> None:
        self.produce(dead_letter_topic(topic), None, dead_letter_record(reason, raw, source))
        with self._lock:
            self.counters.dead_lettered += 1

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            with self._lock:
                self.counters.acked += 1
            return
        with self._lock:
            self.counters.failed += 1
        log.error("record to %s not delivered: %s", message.topic(), error.str())

    def _poll_until_stopped(self) -> None:
        while not self._stopped.is_set():
            self._producer.poll(POLL_SECONDS)

    def flush(self, timeout: float | None = None) -> None:
        """Wait for every record's acknowledgement; ``FlushTimeout`` after ``timeout`` s."""
        left = self._producer.flush(-1 if timeout is None else timeout)
        if left:
            raise FlushTimeout(
                f"{left} records to Kafka still waited for their acknowledgement after {timeout} s"
            )

    def close(self, timeout: float | None = None) -> None:
        """Deliver what is pending (up to ``timeout`` s; the rest fails and is logged) and
        stop. Closing again does nothing."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._poller.join()
        left = self._producer.flush(-1 if timeout is None else timeout)
        if left:
            log.error("closing the Kafka producer: %d records not delivered in %s s", left, timeout)
            self._producer.purge()
            self._producer.flush(0)  # their delivery reports: counted as failed
        self._producer.close()


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
