"""The stack's InfluxDB: the buckets `stack up` provisions (created if missing, and those
holding years of history given long shard groups, also when they already exist with InfluxDB's
7-day default); and influxdb-client against it: write points, read them back with Flux."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from influxdb_client import BucketRetentionRules, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from rich.console import Console

from streamlines.stack.services.influxdb import InfluxDBService

SEVEN_DAYS = 7 * 86_400


def _shard_group_seconds(influx, name: str) -> int:
    (rule,) = influx.buckets_api().find_bucket_by_name(name).retention_rules
    return rule.shard_group_duration_seconds


def test_the_market_bucket_has_long_shard_groups(stack, settings, influx):
    assert settings.influx_shard_group_seconds["market"] >= 365 * 86_400
    assert _shard_group_seconds(influx, "market") == settings.influx_shard_group_seconds["market"]


def test_set_up_creates_missing_buckets_and_lengthens_existing_shard_groups(
    stack, settings, influx, unique_name
):
    existing, missing = f"{unique_name}-old", f"{unique_name}-new"
    rules = BucketRetentionRules(type="expire", every_seconds=0,
                                 shard_group_duration_seconds=SEVEN_DAYS)  # fmt: skip
    influx.buckets_api().create_bucket(bucket_name=existing, retention_rules=rules)
    ours = settings.model_copy(
        update={
            "influx_buckets": (existing, missing),
            "influx_shard_group_seconds": {existing: 52 * SEVEN_DAYS, missing: 104 * SEVEN_DAYS},
        }
    )
    try:
        InfluxDBService(ours).after_start(Console(quiet=True))
        assert _shard_group_seconds(influx, existing) == 52 * SEVEN_DAYS
        assert _shard_group_seconds(influx, missing) == 104 * SEVEN_DAYS
    finally:
        for name in (existing, missing):
            found = influx.buckets_api().find_bucket_by_name(name)
            if found is not None:
                influx.buckets_api().delete_bucket(found)


def test_set_up_finds_a_bucket_past_the_first_page_of_the_listing(
    stack, settings, influx, unique_name
):
    """Set-up looks each bucket up by name: it used to list 100 buckets and take any bucket
    past them for missing (and fail creating it again)."""
    api = influx.buckets_api()
    created = [api.create_bucket(bucket_name=f"{unique_name}-{i:03d}") for i in range(101)]
    last = created[-1].name
    try:
        first_page = api.find_buckets(org_id=created[-1].org_id, limit=100).buckets
        assert last not in {bucket.name for bucket in first_page}  # the case under test
        ours = settings.model_copy(
            update={
                "influx_buckets": (last,),
                "influx_shard_group_seconds": {last: 52 * SEVEN_DAYS},
            }
        )
        InfluxDBService(ours).after_start(Console(quiet=True))
        assert _shard_group_seconds(influx, last) == 52 * SEVEN_DAYS
    finally:
        for bucket in created:
            api.delete_bucket(bucket)


def test_write_then_flux_query(influx, bucket):
    start = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    closes = [100.25 + i * 0.5 for i in range(60)]
    points = [
        Point("bars")
        .tag("symbol", "GOOG")
        .field("close", close)
        .field("volume", 1000 + i)
        .time(start + timedelta(minutes=i), WritePrecision.NS)
        for i, close in enumerate(closes)
    ]
    influx.write_api(write_options=SYNCHRONOUS).write(bucket=bucket, record=points)

    # User input reaches Flux only as parameters, never pasted into the query text. On InfluxDB
    # OSS the client sends them as `extern` options, so the query names them directly.
    query = """
from(bucket: bucket_name)
  |> range(start: range_start, stop: range_stop)
  |> filter(fn: (r) => r._measurement == "bars" and r.symbol == symbol)
  |> filter(fn: (r) => r._field == "close")
"""
    tables = influx.query_api().query(
        query,
        params={
            "bucket_name": bucket,
            "symbol": "GOOG",
            "range_start": start,
            "range_stop": start + timedelta(hours=2),
        },
    )
    rows = [(record.get_time(), record.get_value()) for table in tables for record in table]
    assert [value for _, value in rows] == closes
    assert rows[0][0] == start
    assert rows[-1][0] == start + timedelta(minutes=59)


def test_rewriting_the_same_point_overwrites_it(influx, bucket):
    at = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
    write = influx.write_api(write_options=SYNCHRONOUS)
    for close in (10.0, 11.0):
        write.write(
            bucket=bucket, record=Point("bars").tag("symbol", "X").field("close", close).time(at)
        )
    tables = influx.query_api().query(
        "from(bucket: bucket_name) |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-03)",
        params={"bucket_name": bucket},
    )
    assert [r.get_value() for t in tables for r in t] == [11.0]
