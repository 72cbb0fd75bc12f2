"""Reads for corrections: the audit of deleted bars (measurement ``bar_deletions`` in the market
bucket), how many bars a deletion removes, and what a recompute reads and replaces (the stored
bars, the currents metrics a symbol has)."""

from __future__ import annotations

from graphql_server.flux import FluxStore, Row, rows
from graphql_server.validation import TimeRange
from streamlines.contracts.influx import (
    MEASUREMENT_BAR_DELETIONS,
    MEASUREMENT_BARS,
    MEASUREMENT_CURRENTS,
)

# Audit records of deleted bars, newest first.
DELETIONS_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: 0))
  |> filter(fn: (r) => r._measurement == measurement)
  |> filter(fn: (r) => symbol == "" or r.symbol == symbol)
  |> pivot(rowKey: ["_time", "symbol", "timeframe"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"], desc: true)
  |> limit(n: max_rows)
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""

# How many bars of one series start in [start, stop).
COUNT_BARS_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => r.timeframe == timeframe and r._field == "close")
  |> count()
"""

# The currents metrics a symbol has points of from a time on.
METRIC_NAMES_FLUX = """
import "influxdata/influxdb/schema"

schema.tagValues(
  bucket: bucket_name,
  tag: "metric",
  predicate: (r) => r._measurement == measurement and r.symbol == symbol,
  start: time(v: start_ns),
  stop: time(v: stop_ns),
)
"""

END_OF_TIME_NS = 2**62  # 2116: later than any bar


class CorrectionsStore(FluxStore):
    def deletions(self, symbol: str | None, max_rows: int) -> list[Row]:
        params = {
            "bucket_name": self.market_bucket,
            "measurement": MEASUREMENT_BAR_DELETIONS,
            "symbol": symbol or "",
            "max_rows": max_rows,
        }
        return rows(self._flux.run(DELETIONS_FLUX, params, self.market_bucket))

    def count_bars(self, symbol: str, timeframe: str, window: TimeRange) -> int:
        params = {
            "bucket_name": self.market_bucket,
            "measurement": MEASUREMENT_BARS,
            "symbol": symbol,
            "timeframe": timeframe,
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
        }
        tables = self._flux.run(COUNT_BARS_FLUX, params, self.market_bucket)
        return sum(int(r.get_value()) for table in tables for r in table.records)

    def metric_names(self, symbol: str, start_ns: int, end_ns: int = END_OF_TIME_NS) -> set[str]:
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": MEASUREMENT_CURRENTS,
            "symbol": symbol,
            "start_ns": start_ns,
            "stop_ns": end_ns,
        }
        tables = self._flux.run(METRIC_NAMES_FLUX, params, self.analytics_bucket)
        return {str(r.get_value()) for table in tables for r in table.records}
