"""A Kinesis sink with the Kafka sink's interface: topic names are stream names, the symbol is
the partition key. Records are sent in batches of up to ``batch_size`` (the bounded buffer:
``send`` blocks while a full batch is written), and a batch that is not full goes out at the
latest ``linger`` seconds after its first record (a quiet stream does not wait for 500
records); records Kinesis rejects are retried, with backoff, before anything newer is sent.

Order: a symbol's records keep their order across batches (one batch is written, retries
included, before the next). Within one PutRecords call Kinesis gives no order on a partial
failure: a rejected record that is retried lands after the accepted records of the same
call, so within one batch (at most ``linger`` seconds of records) a retried record may follow
a later one of its symbol. The jobs read by event time with a watermark bound, which absorbs
that."""

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
    def __init__(
        self,
        client: Any,
        *,
        batch_size: int = MAX_BATCH,
        max_attempts: int = 8,
        linger: float | None = 0.5,
    ) -> None:
        self._client = client
        self._batch_size = max(1, min(batch_size, MAX_BATCH))
        self._max_attempts = max_attempts
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._first_at: dict[str, float] = {}  # stream -> when its buffer's first record came
        self._lock = threading.Lock()
        self.counters = Counters()
        self._linger = linger
        self._closed = threading.Event()
        self._flusher: threading.Thread | None = None
        if linger is not None:
            self._flusher = threading.Thread(
                target=self._flush_lingering, name="kinesis-linger", daemon=True
            )
            self._flusher.start()

    def produce(self, stream: str, key: str, value: bytes) -> None:
        with self._lock:
            buffer = self._buffers.setdefault(stream, [])
            if not buffer:
                self._first_at[stream] = time.monotonic()
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
        self._closed.set()
        if self._flusher is not None:
            self._flusher.join(timeout)
        self.flush(timeout)

    def _flush_lingering(self) -> None:
        """Write each buffer whose first record has waited ``linger`` seconds."""
        assert self._linger is not None
        tick = max(self._linger / 4, 0.01)
        while not self._closed.wait(tick):
            now = time.monotonic()
            try:
                with self._lock:
                    for stream, buffer in self._buffers.items():
                        if buffer and now - self._first_at[stream] >= self._linger:
                            self._put(stream, buffer)
                            buffer.clear()
            except (KinesisDeliveryError, BotoCoreError, ClientError) as exc:
                # the batch stays buffered: the next tick, send or flush tries it again
                log.error("Kinesis: a lingering batch could not be written: %s", exc)


def ensure_streams(
    client: Any, names: list[str], endpoint: str | None, timeout: float = 30.0
) -> None:
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
        if endpoint is None:
            raise UserError(
                f"cannot use Kinesis on AWS: {exc}",
                "check the AWS credentials (boto3's chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, ...) "
                "and STREAMLINES_AWS_REGION",
            ) from None
        raise UserError(
            f"cannot use Kinesis at {endpoint}: {exc}",
            "start the local stack with `streamlines stack up`",
        ) from None
