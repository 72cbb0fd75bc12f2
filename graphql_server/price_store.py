"""Reads of the price store for the GraphQL server: gathered bars (bucket ``market``, see
``connectors.gather.points``), the currents job's indicators, signals and volatility rounds
(bucket ``analytics``, measurement ``currents``, see ``jobs/currents.py``) and the audit of
deleted bars. Constant Flux with bound parameters (``graphql_server.flux``); times travel as
integer nanoseconds so nothing is rounded to microseconds on the way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.gather.points import MEASUREMENT as BARS_MEASUREMENT
from graphql_server.flux import FluxRunner, influx_client
from graphql_server.validation import TimeRange
from streamlines.settings import Settings

CURRENTS_MEASUREMENT = "currents"
DELETIONS_MEASUREMENT = "bar_deletions"
VOLATILITY_METRIC = "volatility_24h"

# Rows of one series, every field a column, oldest first, with exact nanosecond times: the bars
# of a timeframe, or one metric (Flux has no record access by a computed name, so one each).
_ROWS = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => r.{tag} == tag_value)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> limit(n: max_rows)
  |> map(fn: (r) => ({{r with t_ns: int(v: r._time)}}))
"""
ROWS_FLUX = {tag: _ROWS.format(tag=tag) for tag in ("timeframe", "metric")}

# Crossover records (``cross_<fast>_<slow>_<timeframe>``) of some symbols, oldest first.
SIGNALS_FLUX = """
import "strings"

from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and contains(value: r.symbol, set: symbols))
  |> filter(fn: (r) => strings.hasPrefix(v: r.metric, prefix: "cross_"))
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

_NOT_FIELDS = {
    "result", "table", "_start", "_stop", "_time", "_measurement", "symbol", "metric",
    "timeframe", "t_ns",
}  # fmt: skip


@dataclass(frozen=True)
class Row:
    t_ns: int
    symbol: str
    values: dict[str, Any]
    metric: str = ""
    timeframe: str = ""


def _rows(tables: Any) -> list[Row]:
    rows = []
    for table in tables:
        for record in table.records:
            raw = record.values
            rows.append(
                Row(
                    t_ns=int(raw["t_ns"]),
                    symbol=str(raw.get("symbol", "")),
                    values=_fields(raw),
                    metric=str(raw.get("metric") or ""),
                    timeframe=str(raw.get("timeframe") or ""),
                )
            )
    return rows


class PriceStore:
    def __init__(self, settings: Settings) -> None:
        self.market_bucket = settings.gather_bucket
        self.analytics_bucket = settings.graphql_analytics_bucket
        self._client = influx_client(settings)
        self._flux = FluxRunner(self._client, settings.influx_url)

    def bars(self, symbol: str, timeframe: str, window: TimeRange, max_rows: int) -> list[Row]:
        """Gathered bars of one symbol and timeframe starting in [start, end)."""
        return self._series(
            self.market_bucket, BARS_MEASUREMENT, symbol, "timeframe", timeframe, window, max_rows
        )

    def indicator(self, symbol: str, metric: str, window: TimeRange, max_rows: int) -> list[Row]:
        """One currents metric (e.g. ``sma_1Day``) of one symbol in [start, end)."""
        return self._series(
            self.analytics_bucket, CURRENTS_MEASUREMENT, symbol, "metric", metric, window, max_rows
        )

    def signals(
        self, symbols: list[str], timeframe: str, window: TimeRange, max_rows: int
    ) -> list[Row]:
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": CURRENTS_MEASUREMENT,
            "symbols": symbols,
            "suffix": f"_{timeframe}",
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
            "max_rows": max_rows,
        }
        return _rows(self._flux.run(SIGNALS_FLUX, params, self.analytics_bucket))

    def volatility_round(self, at_ns: int, lookback_ns: int) -> tuple[int, list[Row]] | None:
        """The latest volatility round with updated_at <= ``at_ns`` (looking back at most
        ``lookback_ns``): its time and every symbol's record, or None."""
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": CURRENTS_MEASUREMENT,
            "metric": VOLATILITY_METRIC,
            "start_ns": at_ns - lookback_ns,
            "stop_ns": at_ns + 1,
        }
        tables = self._flux.run(LATEST_ROUND_FLUX, params, self.analytics_bucket)
        times = [int(r.values["t_ns"]) for table in tables for r in table.records]
        if not times:
            return None
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": CURRENTS_MEASUREMENT,
            "metric": VOLATILITY_METRIC,
            "t_ns": times[0],
        }
        tables = self._flux.run(ROUND_FLUX, params, self.analytics_bucket)
        rows = [
            Row(t_ns=times[0], symbol=str(r.values["symbol"]), values=_fields(r.values))
            for table in tables
            for r in table.records
        ]
        return times[0], rows

    def deletions(self, symbol: str | None, max_rows: int) -> list[Row]:
        params = {
            "bucket_name": self.market_bucket,
            "measurement": DELETIONS_MEASUREMENT,
            "symbol": symbol or "",
            "max_rows": max_rows,
        }
        return _rows(self._flux.run(DELETIONS_FLUX, params, self.market_bucket))

    def _series(
        self,
        bucket: str,
        measurement: str,
        symbol: str,
        tag_name: str,
        tag_value: str,
        window: TimeRange,
        max_rows: int,
    ) -> list[Row]:
        params = {
            "bucket_name": bucket,
            "measurement": measurement,
            "symbol": symbol,
            "tag_value": tag_value,
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
            "max_rows": max_rows,
        }
        return _rows(self._flux.run(ROWS_FLUX[tag_name], params, bucket))

    def count_bars(self, symbol: str, timeframe: str, window: TimeRange) -> int:
        params = {
            "bucket_name": self.market_bucket,
            "measurement": BARS_MEASUREMENT,
            "symbol": symbol,
            "timeframe": timeframe,
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
        }
        tables = self._flux.run(COUNT_BARS_FLUX, params, self.market_bucket)
        return sum(int(r.get_value()) for table in tables for r in table.records)

    def metric_names(self, symbol: str, since_ns: int, until_ns: int = 2**62) -> set[str]:
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": CURRENTS_MEASUREMENT,
            "symbol": symbol,
            "start_ns": since_ns,
            "stop_ns": until_ns,
        }
        tables = self._flux.run(METRIC_NAMES_FLUX, params, self.analytics_bucket)
        return {str(r.get_value()) for table in tables for r in table.records}

    def close(self) -> None:
        self._client.close()


def _fields(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in _NOT_FIELDS and v is not None}
