"""Reads of the analytics bucket for the GraphQL server.

Every Flux query here is a constant; what the client sent reaches InfluxDB only as query
parameters (``params=``, which InfluxDB binds as values), never pasted into the Flux text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from graphql_server.errors import BackendUnavailable
from graphql_server.validation import TimeRange
from streamlines.settings import Settings

log = logging.getLogger(__name__)

MEASUREMENT = "ripples"

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

_NOT_FIELDS = {"result", "table", "_start", "_stop", "_time", "_measurement", "symbol", "metric"}


@dataclass(frozen=True)
class Point:
    t_ns: int
    values: dict[str, float]


class AnalyticsStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.graphql_analytics_bucket
        self.url = settings.influx_url
        self._client = InfluxDBClient(
            url=settings.influx_url,
            token=settings.influx_token.get_secret_value(),
            org=settings.influx_org,
            timeout=30_000,
        )
        self._query = self._client.query_api()

    def symbols(self) -> list[str]:
        tables = self._run(SYMBOLS_FLUX, {"bucket_name": self.bucket, "measurement": MEASUREMENT})
        return sorted({str(r.get_value()) for table in tables for r in table.records})

    def series(self, symbol: str, metric: str, window: TimeRange, max_points: int) -> list[Point]:
        """The points of ``metric`` for ``symbol`` with start <= time < end, oldest first."""
        params = {
            "bucket_name": self.bucket,
            "measurement": MEASUREMENT,
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
                    k: float(v)
                    for k, v in row.items()
                    if k not in _NOT_FIELDS and k != "t_ns" and v is not None
                }
                points.append(Point(int(row["t_ns"]), values))
        return points

    def _run(self, flux: str, params: dict[str, Any]) -> Any:
        try:
            return self._query.query(flux, params=params)
        except ApiException as exc:
            if exc.status == 404:
                raise BackendUnavailable(
                    f"InfluxDB has no bucket {self.bucket!r}: start the stack "
                    "(`streamlines stack up`) or set STREAMLINES_GRAPHQL_ANALYTICS_BUCKET"
                ) from None
            log.warning("InfluxDB refused a query: %s %s", exc.status, exc.body)
            raise BackendUnavailable(
                f"InfluxDB refused the query ({exc.status}); see the server log"
            ) from None
        except (HTTPError, OSError) as exc:
            log.warning("InfluxDB at %s did not answer: %s", self.url, exc)
            raise BackendUnavailable(
                f"InfluxDB at {self.url} did not answer: start it with `streamlines stack up`"
            ) from None

    def close(self) -> None:
        self._client.close()
