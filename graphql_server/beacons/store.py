"""Reads of the beacons job's results (bucket ``analytics``, measurement ``beacons``; see
``jobs/beacons``): the valuation series, the event records and the event studies. Constant Flux,
bound parameters (``graphql_server.flux``)."""

from __future__ import annotations

from graphql_server.flux import FluxStore, Row, rows
from graphql_server.scalars import EARLIEST, LATEST
from graphql_server.validation import TimeRange
from streamlines.contracts.influx import MEASUREMENT_BEACONS
from streamlines.contracts.metrics import METRIC_VALUATION

# The records of some metrics of one symbol in [start, stop), oldest first (same day: by metric).
METRICS_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => contains(value: r.metric, set: metrics))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time", "metric"])
  |> limit(n: max_rows)
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""

# The records of one metric of one symbol over all time, latest first.
LATEST_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => r.metric == metric)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"], desc: true)
  |> limit(n: max_rows)
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""

# Every time a store may hold (scalars.EARLIEST/LATEST: the DateTime arguments' range).
ALL_TIME = TimeRange(EARLIEST, LATEST)


class BeaconStore(FluxStore):
    """The beacons in the analytics bucket (STREAMLINES_GRAPHQL_ANALYTICS_BUCKET)."""

    def valuation(self, symbol: str, window: TimeRange, max_rows: int) -> list[Row]:
        """The valuation records of one symbol at bars starting in [start, end)."""
        return self.tagged_rows(
            self.analytics_bucket, MEASUREMENT_BEACONS, symbol, ("metric", METRIC_VALUATION),
            window, max_rows,
        )  # fmt: skip

    def events(
        self, symbol: str, metrics: list[str], window: TimeRange, max_rows: int
    ) -> list[Row]:
        """The event records (``event_<kind>`` metrics) of one symbol with day 0 in [start,
        end), oldest first."""
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": MEASUREMENT_BEACONS,
            "symbol": symbol,
            "metrics": metrics,
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
            "max_rows": max_rows,
        }
        return rows(self._flux.run(METRICS_FLUX, params, self.analytics_bucket))

    def latest(self, symbol: str, metric: str, max_rows: int) -> list[Row]:
        """The last ``max_rows`` records of one metric of one symbol, latest first (an event
        study's records: one per event, so few)."""
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": MEASUREMENT_BEACONS,
            "symbol": symbol,
            "metric": metric,
            "start_ns": ALL_TIME.start_ns,
            "stop_ns": ALL_TIME.end_ns,
            "max_rows": max_rows,
        }
        return rows(self._flux.run(LATEST_FLUX, params, self.analytics_bucket))
