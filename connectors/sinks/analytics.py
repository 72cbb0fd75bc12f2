"""Analytics records from a Kafka topic into InfluxDB (`streamlines sink influx`).

Reads ``analytics.ripples`` (or another analytics topic: ``analytics.currents``,
``analytics.predictions``) in a consumer group, writes each record as one point
(``streamlines.contracts.points.record_points``: measurement = the topic's, from
``ANALYTICS_MEASUREMENTS`` or given; a prediction with its model's tags, any other record with
tags ``symbol`` and ``metric`` and its values as fields, the currents job's per-bar record as
one such point per indicator family; time = the record's ``t_ns``) and commits the offsets only
after InfluxDB accepted the batch. A record that does not fit the schema goes to
``<topic>.dlq`` with the reason, and the sink keeps going. Because timestamps come from the
records, a replayed topic or a restarted sink overwrites points instead of duplicating them.

Only committed records are read (``isolation_level=read_committed``): the jobs write their
topics in Kafka transactions, and what an aborted one left is a repeat of a job's restart.

While InfluxDB is down or overloaded (``InfluxUnavailable``, after the writer's own short
retries) the sink pauses: it stops fetching, keeps the one batch it holds (at most
``MAX_POLL_RECORDS`` records: the memory bound), commits nothing past what InfluxDB accepted,
logs "InfluxDB unavailable, paused at offset ...", and tries the batch again every
``PAUSE_RETRY_S`` seconds until InfluxDB takes it; then it reads on from there. Stopped while
paused, it leaves the batch uncommitted: the next start reads it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from influxdb_client import Point
from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord

from connectors.sinks.influx import InfluxUnavailable, InfluxWriter
from connectors.sinks.kafka import KafkaSink
from streamlines.connections import kafka_client_config
from streamlines.contracts.events import SchemaError
from streamlines.contracts.influx import (
    ANALYTICS_MEASUREMENTS,
    BUCKET_ANALYTICS,
    MEASUREMENT_BUCKETS,
)
from streamlines.contracts.points import record_points
from streamlines.contracts.topics import TOPIC_RIPPLES
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

# Records one poll returns, and so the most the sink holds while InfluxDB is away.
MAX_POLL_RECORDS = 5000
# While paused: how long the writer retries a batch before the sink pauses (seconds, in turn),
# and how often the paused sink tries again.
WRITE_RETRY_DELAYS_S = (1.0, 2.0)
PAUSE_RETRY_S = 5.0


def measurement_for(topic: str, measurement: str | None = None) -> str:
    """The measurement ``topic``'s records are stored as: ``measurement`` when given, else the
    contract's for a known analytics topic (``analytics.ripples`` -> ``ripples``)."""
    if measurement:
        return measurement
    try:
        return ANALYTICS_MEASUREMENTS[topic]
    except KeyError:
        known = ", ".join(f"{t} -> {m}" for t, m in ANALYTICS_MEASUREMENTS.items())
        raise UserError(
            f"topic {topic!r} is not a known analytics topic ({known}), so its measurement "
            "is unknown",
            "name it: --measurement ripples (or currents, beacons, predictions)",
        ) from None


@dataclass
class SinkCounters:
    read: int = 0
    written: int = 0
    dead_lettered: int = 0
    pauses: int = 0


def run_sink(
    settings: Settings,
    topic: str = TOPIC_RIPPLES,
    bucket: str | None = None,
    group_id: str = "analytics-to-influx",
    exit_when_idle: float | None = None,
    stop: threading.Event | None = None,
    measurement: str | None = None,
) -> SinkCounters:
    """Copy ``topic`` into ``bucket`` until ``stop`` is set (or the topic is idle for
    ``exit_when_idle`` seconds, for backfills and tests), as ``measurement`` (default: the
    topic's, see ``measurement_for``; the bucket defaults to the measurement's)."""
    stop = stop or threading.Event()
    counters = SinkCounters()
    measurement = measurement_for(topic, measurement)
    bucket = bucket or MEASUREMENT_BUCKETS.get(measurement, BUCKET_ANALYTICS)
    consumer = KafkaConsumer(
        topic,
        **kafka_client_config(settings),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=MAX_POLL_RECORDS,
        isolation_level="read_committed",
    )
    dead_letters = KafkaSink(settings, client_id=f"{group_id}-dlq")
    writer = InfluxWriter.from_settings(settings, bucket)
    writer.retry_delays = WRITE_RETRY_DELAYS_S
    last_data = time.monotonic()
    log.info("copying %s into InfluxDB bucket %s (group %s)", topic, bucket, group_id)
    try:
        while not stop.is_set():
            batches = consumer.poll(timeout_ms=500)
            records = [r for batch in batches.values() for r in batch]
            if not records:
                if exit_when_idle is not None and time.monotonic() - last_data > exit_when_idle:
                    break
                continue
            last_data = time.monotonic()
            points = []
            for raw in records:
                counters.read += 1
                try:
                    points.extend(record_points(raw.value, measurement))
                except SchemaError as exc:
                    dead_letters.dead_letter(topic, exc.reason, raw.value, source=topic)
                    counters.dead_lettered += 1
            written = write_or_pause(writer, points, consumer, records, stop, counters)
            if written is None:
                break  # stopped while paused: the batch stays uncommitted
            counters.written += written
            dead_letters.flush()
            consumer.commit()
    finally:
        consumer.close()
        dead_letters.close()
        writer.close()
    log.info(
        "sink stopped: %d read, %d written, %d dead-lettered",
        counters.read,
        counters.written,
        counters.dead_lettered,
    )
    return counters


def write_or_pause(
    writer: InfluxWriter,
    points: list[Point],
    consumer: KafkaConsumer,
    records: Sequence[ConsumerRecord],
    stop: threading.Event,
    counters: SinkCounters,
    retry_s: float = PAUSE_RETRY_S,
) -> int | None:
    """Write ``points`` (read as ``records``); while InfluxDB is unavailable, pause the
    consumer's partitions (polling on, so the group keeps it, but fetching nothing) and try
    again every ``retry_s`` until InfluxDB takes them. Returns the points written, or None if
    ``stop`` was set first."""
    paused_at: float | None = None
    while True:
        try:
            written = writer.write(points)
        except InfluxUnavailable as exc:
            if paused_at is None:
                paused_at = time.monotonic()
                counters.pauses += 1
                consumer.pause(*consumer.assignment())
                log.warning(
                    "InfluxDB unavailable, paused at offset %s (%d records held, none "
                    "committed past them), retrying every %.0f s: %s",
                    first_offsets(records),
                    len(records),
                    retry_s,
                    str(exc).splitlines()[0],
                )
            if not _wait_polling(consumer, stop, retry_s):
                log.warning(
                    "stopped while InfluxDB was unavailable; offset %s not committed",
                    first_offsets(records),
                )
                return None
            continue
        if paused_at is not None:
            consumer.resume(*consumer.paused())
            log.warning(
                "InfluxDB back after %.0f s; wrote the held batch, reading on from offset %s",
                time.monotonic() - paused_at,
                first_offsets(records),
            )
        return written


def first_offsets(records: Sequence[ConsumerRecord]) -> str:
    """Where a batch starts, per partition: ``topic[partition]@offset, ...``."""
    first: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)
        first[key] = min(first.get(key, r.offset), r.offset)
    return ", ".join(f"{t}[{p}]@{o}" for (t, p), o in sorted(first.items()))


def _wait_polling(consumer: KafkaConsumer, stop: threading.Event, seconds: float) -> bool:
    """Poll the paused consumer for ``seconds`` (it returns nothing, but stays in its group);
    False if ``stop`` was set."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if stop.is_set():
            return False
        consumer.poll(timeout_ms=200)
    return not stop.is_set()
