"""Reads for corrections: how many bars a deletion removes, and what a recompute reads and
replaces (the stored bars, the currents metrics a symbol has). The audit of deletions is in the
metadata database (``streamlines.metadata.audit``)."""

from __future__ import annotations

from graphql_server.flux import FluxStore
from graphql_server.validation import TimeRange
from streamlines.contracts.influx import MEASUREMENT_BARS, MEASUREMENT_CURRENTS

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
