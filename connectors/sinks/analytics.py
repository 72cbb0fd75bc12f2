"""Analytics records from a Kafka topic into InfluxDB (`streamlines sink influx`).

Reads ``analytics.ripples`` (or another analytics topic: ``analytics.currents``,
``analytics.predictions``) in a consumer group, writes each record as one point
(``streamlines.contracts.influx.record_point``: measurement = the topic's, from
``ANALYTICS_MEASUREMENTS`` or given; a prediction with its model's tags, any other record with
tags ``symbol`` and ``metric`` and its values as fields; time = the record's ``t_ns``) and
commits the
offsets only after InfluxDB accepted the batch. A record that does not fit the schema goes to
``<topic>.dlq`` with the reason, and the sink keeps going. Because timestamps come from the
records, a replayed topic or a restarted sink overwrites points instead of duplicating them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from kafka import KafkaConsumer

from connectors.sinks.influx import InfluxWriter
from connectors.sinks.kafka import KafkaSink
from streamlines.contracts.events import SchemaError
from streamlines.contracts.influx import (
    ANALYTICS_MEASUREMENTS,
    BUCKET_ANALYTICS,
    MEASUREMENT_BUCKETS,
)
from streamlines.contracts.points import record_point
from streamlines.contracts.topics import TOPIC_RIPPLES
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)


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
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=5000,
    )
    dead_letters = KafkaSink(settings.kafka_bootstrap, client_id=f"{group_id}-dlq")
    writer = InfluxWriter.from_settings(settings, bucket)
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
                    points.append(record_point(raw.value, measurement))
                except SchemaError as exc:
                    dead_letters.dead_letter(topic, exc.reason, raw.value, source=topic)
                    counters.dead_lettered += 1
            counters.written += writer.write(points)
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
