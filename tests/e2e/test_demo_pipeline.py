"""The README's main command end to end on the real local stack: replay feed → ingest →
Kafka → ripples (Flink) → analytics.ripples → InfluxDB."""

from __future__ import annotations

import subprocess
import sys

from streamlines.schemas import TOPIC_RIPPLES


def test_demo_runs_the_pipeline_into_influxdb(stack, influx, read_topic):
    run = subprocess.run(
        [sys.executable, "-m", "streamlines.cli", "demo", "--duration", "45", "--keep-stack"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ripples out:" in run.stderr
    assert "cancelled ripples job" in run.stderr  # it stops what it started

    assert read_topic(TOPIC_RIPPLES, 1), "no analytics records"
    tables = influx.query_api().query(
        """
from(bucket: "analytics")
  |> range(start: 1990-01-01T00:00:00Z, stop: 2030-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == "ripples" and r.metric == "bar_1m")
  |> filter(fn: (r) => r._field == "vwap")
  |> group(columns: ["symbol"])
  |> count()
"""
    )
    counts = {r["symbol"]: r.get_value() for t in tables for r in t}
    assert counts.get("GOOG", 0) > 0, counts
