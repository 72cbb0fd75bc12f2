"""A Kinesis sink with the Kafka sink's interface: topic names are stream names, the symbol is
the partition key. Records are sent in batches of up to ``batch_size`` (the bounded buffer:
``send`` blocks while a full batch is written); records Kinesis rejects are retried, with
backoff, before anything newer is sent."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from connectors.sinks.deadletter import dead_letter_record
from connectors.sinks.kafka import Counters
from streamlines.contracts.events import Event
from streamlines.contracts.topics import dead_letter_topic
from streamlines.errors import UserError

log = logging.getLogger(__name__)

MAX_BATCH = 500  # the PutRecords limit


class KinesisDeliveryError(RuntimeError):
    """Kinesis kept rejecting records after every retry."""


class KinesisSink:
    def __init__(self, client: Any, *, batch_size: int = MAX_BATCH, max_attempts: int = 8) -> None:
        self._client = client
        self._batch_size = max(1, min(batch_size, MAX_BATCH))
        self._max_attempts = max_attempts
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.counters = Counters()

    def produce(self, stream: str, key: str, value: bytes) -> None:
        with self._lock:
            buffer = self._buffers.setdefault(stream, [])
            buffer.append({"Data": value, "PartitionKey": key})
            self.counters.sent += 1
            if len(buffer) >= self._batch_size:
                self._put(stream, buffer)
                buffer.clear()

    def send(self, topic: str, event: Event) -> None:
        self.produce(topic, event.symbol, event.to_wire())

    def dead_letter(self, topic: str, reason: str, raw: Any, source: str) -> None:
        self.produce(dead_letter_topic(topic), source, dead_letter_record(reason, raw, source))
        with self._lock:
            self.counters.dead_lettered += 1

    def _put(self, stream: str, records: list[dict[str, Any]]) -> None:
        pending = list(records)
        for attempt in range(self._max_attempts):
            response = self._client.put_records(StreamName=stream, Records=pending)
            results = response["Records"]
            failed = [rec for rec, res in zip(pending, results, strict=True) if "ErrorCode" in res]
            self.counters.acked += len(pending) - len(failed)
            if not failed:
                return
            log.warning(
                "Kinesis rejected %d of %d records to %s (%s); retrying",
                len(failed), len(pending), stream, results[0].get("ErrorCode", "?"),
            )  # fmt: skip
            pending = failed
            time.sleep(min(0.1 * 2**attempt, 5.0))
        self.counters.failed += len(pending)
        raise KinesisDeliveryError(f"{len(pending)} records to {stream} rejected after retries")

    def flush(self, timeout: float | None = None) -> None:
        with self._lock:
            for stream, buffer in self._buffers.items():
                if buffer:
                    self._put(stream, buffer)
                    buffer.clear()

    def close(self, timeout: float | None = None) -> None:
        self.flush(timeout)


def ensure_streams(client: Any, names: list[str], endpoint: str, timeout: float = 30.0) -> None:
    """Create the streams that do not exist yet (one shard each) and wait until all are active."""
    try:
        for name in names:
            try:
                client.describe_stream_summary(StreamName=name)
            except client.exceptions.ResourceNotFoundException:
                client.create_stream(StreamName=name, ShardCount=1)
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                status = client.describe_stream_summary(StreamName=name)
                if status["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
                    break
                if time.monotonic() > deadline:
                    raise KinesisDeliveryError(f"Kinesis stream {name} is not active")
                time.sleep(0.2)
    except (BotoCoreError, ClientError) as exc:
        raise UserError(
            f"cannot use Kinesis at {endpoint}: {exc}",
            "start the local stack with `streamlines stack up`",
        ) from None
