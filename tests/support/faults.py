"""What the fault tests (tests/faults) share: the figures each prints (records compared, lost,
duplicated, different, time to recover; collected for the session's summary), reading a topic
as a read_committed or a plain consumer, and holding analytics records to a reference."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from influxdb_client import BucketRetentionRules, InfluxDBClient
from kafka import KafkaConsumer, TopicPartition

from streamlines.settings import Settings
from tests.references.ripples import assert_close

# (metric, symbol, t_ns): the identity of an analytics record.
RecordKey = tuple[str, str, int]
# Every fault test's figures, in the order they ran: the session summary prints them.
FIGURES: list[tuple[str, dict[str, Any]]] = []


def report(fault: str, **figures: Any) -> str:
    """Keep a fault test's figures for the session summary; the line to print."""
    FIGURES.append((fault, figures))
    return f"FAULT {fault}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items())


@dataclass
class Comparison:
    """Records held to a reference, by ``RecordKey``."""

    compared: int = 0
    missing: list[RecordKey] = field(default_factory=list)
    extra: list[RecordKey] = field(default_factory=list)
    different: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (self.missing or self.extra or self.different)

    def summary(self) -> str:
        return (
            f"{self.compared} compared, {len(self.missing)} missing, {len(self.extra)} extra, "
            f"{len(self.different)} different; first of each: {self.missing[:1]} "
            f"{self.extra[:1]} {self.different[:1]}"
        )


def compare_to_reference(
    got: dict[RecordKey, dict[str, Any]], expected: dict[str, pd.DataFrame]
) -> Comparison:
    """Each expected row (per metric, by symbol and t_ns) against ``got``, equal within the
    reference's tolerance; InfluxDB keeps no nulls, so a field missing from ``got`` is a null."""
    result = Comparison()
    wanted: set[RecordKey] = set()
    for metric, frame in expected.items():
        for row in frame.to_dict("records"):
            key = (metric, str(row.pop("symbol")), int(row.pop("t_ns")))
            wanted.add(key)
            if key not in got:
                result.missing.append(key)
                continue
            result.compared += 1
            try:
                assert_close({k: got[key].get(k) for k in row}, row, f"{key}")
            except AssertionError as exc:
                result.different.append(str(exc))
    result.extra = sorted(set(got) - wanted)
    return result


def read_topic(bootstrap: str, topic: str, isolation_level: str) -> list[dict[str, Any]]:
    """Every record of ``topic`` (all partitions) up to its end as ``isolation_level`` sees it
    (read_committed: up to the last stable offset, without what aborted transactions wrote),
    decoded from JSON."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level=isolation_level
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        values: list[dict[str, Any]] = []
        idle_since = time.monotonic()
        # A transaction's commit marker takes an offset no record has: stop at the end, or when
        # nothing more comes.
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            batches = consumer.poll(timeout_ms=500, max_records=10_000)
            got = [r for batch in batches.values() for r in batch]
            values.extend(json.loads(r.value) for r in got)
            if got:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 5:
                break
        return values
    finally:
        consumer.close()


def by_key(values: list[dict[str, Any]]) -> tuple[dict[RecordKey, dict[str, Any]], int]:
    """Analytics records by ``RecordKey`` (the last of repeats), and how many repeats there
    were (records beyond the first of their key)."""
    counts = Counter((v["metric"], v["symbol"], int(v["t_ns"])) for v in values)
    records = {(v["metric"], v["symbol"], int(v["t_ns"])): v["values"] for v in values}
    return records, sum(n - 1 for n in counts.values())


def influx_analytics(
    settings: Settings, bucket: str, measurement: str
) -> dict[RecordKey, dict[str, Any]]:
    """Every point of ``measurement`` in ``bucket``, by ``RecordKey``, its fields as values."""
    with InfluxDBClient(
        url=settings.influx_url,
        token=settings.influx_token.get_secret_value(),
        org=settings.influx_org,
        timeout=60_000,
    ) as client:
        tables = client.query_api().query(
            """
from(bucket: b)
  |> range(start: 1970-01-01T00:00:00Z, stop: 2100-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == m)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
""",
            params={"b": bucket, "m": measurement},
        )
    skip = {"result", "table", "_start", "_stop", "_time", "_measurement", "symbol", "metric"}
    out: dict[RecordKey, dict[str, Any]] = {}
    for table in tables:
        for r in table.records:
            values = {k: v for k, v in r.values.items() if k not in skip and k != "t_ns"}
            out[(r["metric"], r["symbol"], int(r["t_ns"]))] = {
                k: v for k, v in values.items() if v is not None
            }
    return out


def new_bucket(settings: Settings, name: str) -> str:
    """A bucket of a test's own in the stack's InfluxDB, with the analytics bucket's shard
    groups."""
    rules = BucketRetentionRules(
        type="expire",
        every_seconds=0,
        shard_group_duration_seconds=settings.influx_shard_group_seconds["analytics"],
    )
    with InfluxDBClient(
        url=settings.influx_url,
        token=settings.influx_token.get_secret_value(),
        org=settings.influx_org,
    ) as client:
        client.buckets_api().create_bucket(bucket_name=name, retention_rules=rules)
    return name
