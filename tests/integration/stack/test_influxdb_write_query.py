"""influxdb-client against the real local InfluxDB: write points, read them back with Flux."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from influxdb_client import Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS


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
