"""Reads of the currents job's results (bucket ``analytics``, measurement ``currents``; see
``jobs/currents``): indicator series, crossover signals and volatility rounds."""

from __future__ import annotations

from graphql_server.flux import FluxStore, Row, fields, rows
from graphql_server.validation import TimeRange
from streamlines.contracts.influx import MEASUREMENT_CURRENTS
from streamlines.contracts.metrics import CROSSOVER_PREFIX, METRIC_VOLATILITY

# Crossover records (``cross_<fast>_<slow>_<timeframe>``) of some symbols, oldest first.
SIGNALS_FLUX = """
import "strings"

from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and contains(value: r.symbol, set: symbols))
  |> filter(fn: (r) => strings.hasPrefix(v: r.metric, prefix: prefix))
  |> filter(fn: (r) => strings.hasSuffix(v: r.metric, suffix: suffix))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time", "symbol", "metric"])
  |> limit(n: max_rows)
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""

# The latest volatility round at or before a time: its time, then every symbol's record of it.
LATEST_ROUND_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.metric == metric)
  |> filter(fn: (r) => r._field == "count")
  |> group()
  |> max(column: "_time")
  |> map(fn: (r) => ({t_ns: int(v: r._time)}))
"""

ROUND_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: t_ns), stop: time(v: t_ns + 1))
  |> filter(fn: (r) => r._measurement == measurement and r.metric == metric)
  |> pivot(rowKey: ["_time", "symbol"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
"""


class IndicatorStore(FluxStore):
    def indicator(self, symbol: str, metric: str, window: TimeRange, max_rows: int) -> list[Row]:
        """One currents metric (e.g. ``sma_1Day``) of one symbol in [start, end)."""
        return self.tagged_rows(
            self.analytics_bucket, MEASUREMENT_CURRENTS, symbol, ("metric", metric), window,
            max_rows,
        )  # fmt: skip

    def signals(
        self, symbols: list[str], timeframe: str, window: TimeRange, max_rows: int
    ) -> list[Row]:
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": MEASUREMENT_CURRENTS,
            "symbols": symbols,
            "prefix": CROSSOVER_PREFIX,
            "suffix": f"_{timeframe}",
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
            "max_rows": max_rows,
        }
        return rows(self._flux.run(SIGNALS_FLUX, params, self.analytics_bucket))

    def volatility_round(self, at_ns: int, lookback_ns: int) -> tuple[int, list[Row]] | None:
        """The latest volatility round with updated_at <= ``at_ns`` (looking back at most
        ``lookback_ns``): its time and every symbol's record, or None."""
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": MEASUREMENT_CURRENTS,
            "metric": METRIC_VOLATILITY,
            "start_ns": at_ns - lookback_ns,
            "stop_ns": at_ns + 1,
        }
        tables = self._flux.run(LATEST_ROUND_FLUX, params, self.analytics_bucket)
        times = [int(r.values["t_ns"]) for table in tables for r in table.records]
        if not times:
            return None
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": MEASUREMENT_CURRENTS,
            "metric": METRIC_VOLATILITY,
            "t_ns": times[0],
        }
        tables = self._flux.run(ROUND_FLUX, params, self.analytics_bucket)
        found = [
            Row(t_ns=times[0], symbol=str(r.values["symbol"]), values=fields(r.values))
            for table in tables
            for r in table.records
        ]
        return times[0], found
