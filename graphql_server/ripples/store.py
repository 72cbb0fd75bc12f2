"""Reads of the ripples in the analytics bucket for the GraphQL server (constant Flux, bound
parameters: see ``graphql_server.flux``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql_server.flux import FluxStore
from graphql_server.validation import TimeRange
from streamlines.contracts.influx import MEASUREMENT_RIPPLES, NOT_FIELDS

# One metric of one symbol over [start, stop), one row per time with every field as a column,
# and the exact nanosecond time (the client library's datetimes stop at microseconds).
SERIES_FLUX = """
from(bucket: bucket_name)
  |> range(start: start_time, stop: stop_time)
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol and r.metric == metric)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> limit(n: max_points)
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""

SYMBOLS_FLUX = """
import "influxdata/influxdb/schema"

schema.tagValues(
  bucket: bucket_name,
  tag: "symbol",
  predicate: (r) => r._measurement == measurement,
  start: time(v: 0),
)
"""


@dataclass(frozen=True)
class Point:
    t_ns: int
    values: dict[str, float]


class AnalyticsStore(FluxStore):
    """The ripples in the analytics bucket (STREAMLINES_GRAPHQL_ANALYTICS_BUCKET)."""

    def symbols(self) -> list[str]:
        tables = self._run(
            SYMBOLS_FLUX, {"bucket_name": self.analytics_bucket, "measurement": MEASUREMENT_RIPPLES}
        )
        return sorted({str(r.get_value()) for table in tables for r in table.records})

    def series(self, symbol: str, metric: str, window: TimeRange, max_points: int) -> list[Point]:
        """The points of ``metric`` for ``symbol`` with start <= time < end, oldest first."""
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": MEASUREMENT_RIPPLES,
            "symbol": symbol,
            "metric": metric,
            "start_time": window.start,
            "stop_time": window.end,
            "max_points": max_points,
        }
        tables = self._run(SERIES_FLUX, params)
        points = []
        for table in tables:
            for record in table.records:
                row = record.values
                values = {
                    k: float(v) for k, v in row.items() if k not in NOT_FIELDS and v is not None
                }
                points.append(Point(int(row["t_ns"]), values))
        return points

    def _run(self, flux: str, params: dict[str, Any]) -> Any:
        return self._flux.run(flux, params, self.analytics_bucket)
