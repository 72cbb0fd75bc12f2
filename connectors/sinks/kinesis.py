"""A Kinesis sink with the Kafka sink's interface: topic names are stream names, the symbol is
the partition key. Records are sent in batches of up to ``batch_size`` (the bounded buffer:
``send`` blocks while a full batch is written), and a batch that is not full goes out at the
latest ``linger`` seconds after its first record (a quiet stream does not wait for 500
records); records Kinesis rejects are retried, with backoff, before anything newer is sent.

Order. PutRecords handles a request's records independently: on a partial failure record i of
a symbol may be rejected while a later record of the same symbol in the same request is
accepted, and retrying i would put it after that later one. So by default (``ordered``) a batch
goes out as consecutive rounds, a round holding the next record of each symbol (at most one per
partition key, at most 500 per request), and a round's rejected records are retried before the
next round is sent: a symbol's records reach the stream strictly in order, across batches and
retries. The cost: a symbol advances one record per request round trip, so a batch of few
symbols takes many small requests (``benchmarks/kinesis_sink.py`` measures it). KPL
aggregation would avoid that, but Flink's ``KinesisStreamsSource`` cannot de-aggregate
(FLINK-32097), so the jobs could not read it. ``ordered=False`` sends full 500-record requests
and gives up order within a batch on retry (a retried record may follow a later one of its
symbol, within at most ``linger`` seconds of records); the jobs read by event time with a
watermark bound, which absorbs that.

A record that is accepted leaves the buffer at once: a batch that fails after every retry
(``KinesisDeliveryError``) keeps only what was not written, in order, for the next attempt."""

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


def rounds(records: list[dict[str, Any]]) -> list[list[int]]:
    """The indices of ``records`` as consecutive requests that keep each partition key's order
    on a partial failure: round k holds the k-th record of every key (in order of appearance),
    split into requests of at most ``MAX_BATCH``."""
    placed: dict[str, int] = {}  # partition key -> how many of its records have a round
    by_round: list[list[int]] = []
    for index, record in enumerate(records):
        depth = placed.get(record["PartitionKey"], 0)
        placed[record["PartitionKey"]] = depth + 1
        if depth == len(by_round):
            by_round.append([])
        by_round[depth].append(index)
    return [r[i : i + MAX_BATCH] for r in by_round for i in range(0, len(r), MAX_BATCH)]


def chunks(records: list[dict[str, Any]]) -> list[list[int]]:
    """The indices of ``records`` in requests of ``MAX_BATCH``, in order (no order on retry)."""
    return [
        list(range(i, min(i + MAX_BATCH, len(records)))) for i in range(0, len(records), MAX_BATCH)
    ]


class KinesisSink:
    def __init__(
        self,
        client: Any,
        *,
        batch_size: int = MAX_BATCH,
        max_attempts: int = 8,
        linger: float | None = 0.5,
        ordered: bool = True,
    ) -> None:
        self._client = client
        self._batch_size = max(1, min(batch_size, MAX_BATCH))
        self._max_attempts = max_attempts
        self._ordered = ordered
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

    def send(self, topic: str, event: Event) -> None:
        self.produce(topic, event.symbol, event.to_wire())

    def dead_letter(self, topic: str, reason: str, raw: Any, source: str) -> None:
        self.produce(dead_letter_topic(topic), source, dead_letter_record(reason, raw, source))
        with self._lock:
            self.counters.dead_lettered += 1

    def _put(self, stream: str, buffer: list[dict[str, Any]]) -> None:
        """Write ``buffer`` request by request, emptying it; on an error it keeps the records
        not written, in order."""
        written: set[int] = set()
        try:
            for request in rounds(buffer) if self._ordered else chunks(buffer):
                self._put_request(stream, buffer, request, written)
        finally:
            buffer[:] = [record for i, record in enumerate(buffer) if i not in written]

    def _put_request(
        self, stream: str, buffer: list[dict[str, Any]], request: list[int], written: set[int]
    ) -> None:
        """One request's records, the rejected ones retried with backoff; adds the indices
        Kinesis accepted to ``written``."""
        pending = request
        for attempt in range(self._max_attempts):
            records = [buffer[i] for i in pending]
            response = self._client.put_records(StreamName=stream, Records=records)
            results = response["Records"]
            failed: list[int] = []
            for i, res in zip(pending, results, strict=True):
                if "ErrorCode" in res:
                    failed.append(i)
                else:
                    written.add(i)
            self.counters.acked += len(pending) - len(failed)
            if not failed:
                return
            reason = next(r["ErrorCode"] for r in results if "ErrorCode" in r)
            log.warning(
                "Kinesis rejected %d of %d records to %s (%s); retrying",
                len(failed), len(pending), stream, reason,
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
            except (KinesisDeliveryError, BotoCoreError, ClientError) as exc:
                # what was not written stays buffered: the next tick, send or flush tries again
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
