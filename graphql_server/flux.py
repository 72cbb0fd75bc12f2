"""Flux queries for the GraphQL server, with InfluxDB's failures turned into clear errors, and
the reader of stored series that the feature stores share (``FluxStore``, ``Row``).

Every Flux query the server runs is a constant; what a client sent reaches InfluxDB only as
query parameters (``params=``, which InfluxDB binds as values), never pasted into the Flux text.
Times travel as integer nanoseconds, so nothing is rounded to microseconds on the way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from influxdb_client import Dialect, InfluxDBClient
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from graphql_server.column_data import FieldColumn, parse_field_csv, parse_fields_csv
from graphql_server.errors import BackendUnavailable, QueryError
from graphql_server.validation import TimeRange
from streamlines.connections import influx_client_config
from streamlines.contracts.influx import MEASUREMENT_BARS, NOT_FIELDS
from streamlines.settings import Settings

log = logging.getLogger(__name__)


def influx_client(settings: Settings) -> InfluxDBClient:
    return InfluxDBClient(**influx_client_config(settings), timeout=30_000)


# CSV answers: one header line, no annotations (``FluxRunner.run_csv``).
CSV_DIALECT = Dialect(header=True, annotations=[])


class FluxRunner:
    def __init__(self, client: InfluxDBClient, url: str) -> None:
        self.url = url
        self._query = client.query_api()

    def run(self, flux: str, params: dict[str, Any], bucket: str) -> Any:
        """The result tables of ``flux`` with ``params`` bound; ``bucket`` names the bucket
        the query reads, for the error message when it does not exist."""
        return self._answer(lambda: self._query.query(flux, params=params), bucket)

    def run_csv(self, flux: str, params: dict[str, Any], bucket: str) -> bytes:
        """As ``run``, the answer as CSV without annotations (one header line, then the rows):
        for many rows, which the client library's records would take seconds to build."""
        raw = self._answer(
            lambda: self._query.query_raw(flux, params=params, dialect=CSV_DIALECT), bucket
        )
        return bytes(raw.data)

    def _answer(self, ask: Callable[[], Any], bucket: str) -> Any:
        try:
            return ask()
        except ApiException as exc:
            if exc.status == 404:
                raise BackendUnavailable(
                    f"InfluxDB has no bucket {bucket!r}: start the stack (`streamlines stack "
                    "up`) or set the server's bucket settings (STREAMLINES_GRAPHQL_ANALYTICS_"
                    "BUCKET, STREAMLINES_GATHER_BUCKET, STREAMLINES_PREDICTIONS_BUCKET)"
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


@dataclass(frozen=True)
class Row:
    """One stored point: its time, tags and fields (``values``: the non-null ones)."""

    t_ns: int
    symbol: str
    values: dict[str, Any]
    metric: str = ""
    timeframe: str = ""


def fields(raw: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Flux result row (no tags, no bookkeeping columns, no nulls)."""
    return {k: v for k, v in raw.items() if k not in NOT_FIELDS and v is not None}


def rows(tables: Any) -> list[Row]:
    """The rows of Flux result tables that carry a ``t_ns`` column."""
    result = []
    for table in tables:
        for record in table.records:
            raw = record.values
            result.append(
                Row(
                    t_ns=int(raw["t_ns"]),
                    symbol=str(raw.get("symbol", "")),
                    values=fields(raw),
                    metric=str(raw.get("metric") or ""),
                    timeframe=str(raw.get("timeframe") or ""),
                )
            )
    return result


# One field of one symbol's bars of one timeframe, [start, stop), oldest first (a storage read
# InfluxDB pushes down whole: range, filter on tags and field, limit, keep).
FIELD_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => r.timeframe == timeframe and r._field == field)
  |> limit(n: max_rows)
  |> keep(columns: ["_time", "_value"])
"""

# Every field of one metric (e.g. ``sma_1Min``) of one symbol, [start, stop), oldest first per
# field.
METRIC_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => r.metric == metric)
  |> limit(n: max_rows)
  |> keep(columns: ["_time", "_field", "_value"])
"""


class FluxStore:
    """A store on InfluxDB: its client, the buckets it reads (gathered bars: the market bucket,
    analytics: the analytics bucket), the series reader and the gathered bars."""

    def __init__(self, settings: Settings) -> None:
        self.market_bucket = settings.gather_bucket
        self.analytics_bucket = settings.graphql_analytics_bucket
        self.url = settings.influx_url
        self._client = influx_client(settings)
        self._flux = FluxRunner(self._client, settings.influx_url)

    def tagged_rows(
        self,
        bucket: str,
        measurement: str,
        symbol: str,
        tag: tuple[str, str],
        window: TimeRange,
        max_rows: int,
    ) -> list[Row]:
        """The rows of one symbol whose ``tag`` (name, value: ``("timeframe", "1Day")`` or
        ``("metric", "sma_1Day")``) matches, in [start, end), oldest first."""
        tag_name, tag_value = tag
        params = {
            "bucket_name": bucket,
            "measurement": measurement,
            "symbol": symbol,
            "tag_value": tag_value,
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
            "max_rows": max_rows,
        }
        return rows(self._flux.run(ROWS_FLUX[tag_name], params, bucket))

    def bars(self, symbol: str, timeframe: str, window: TimeRange, max_rows: int) -> list[Row]:
        """Gathered bars of one symbol and timeframe starting in [start, end) (the series
        query, and the bars a recompute reads)."""
        return self.tagged_rows(
            self.market_bucket, MEASUREMENT_BARS, symbol, ("timeframe", timeframe), window,
            max_rows,
        )  # fmt: skip

    def field_column(
        self, symbol: str, timeframe: str, field: str, window: TimeRange, max_rows: int
    ) -> FieldColumn:
        """One field of the gathered bars of one symbol and timeframe starting in [start,
        end), as a column (for long series: no pivot, which costs InfluxDB about a second per
        100,000 bars of seven fields)."""
        params = {
            "bucket_name": self.market_bucket,
            "measurement": MEASUREMENT_BARS,
            "symbol": symbol,
            "timeframe": timeframe,
            "field": field,
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
            "max_rows": max_rows,
        }
        return parse_field_csv(self._flux.run_csv(FIELD_FLUX, params, self.market_bucket))

    def metric_columns(
        self, measurement: str, symbol: str, metric: str, window: TimeRange, max_rows: int
    ) -> dict[str, FieldColumn]:
        """Every field of one analytics metric of one symbol in [start, end), by field."""
        params = {
            "bucket_name": self.analytics_bucket,
            "measurement": measurement,
            "symbol": symbol,
            "metric": metric,
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
            "max_rows": max_rows,
        }
        return parse_fields_csv(self._flux.run_csv(METRIC_FLUX, params, self.analytics_bucket))

    def close(self) -> None:
        self._client.close()


async def rows_within_limit(
    max_rows: int, what: str, read: Callable[..., list[Row]], *args: object
) -> list[Row]:
    """``read(*args, max_rows + 1)`` on a worker thread; a clear error past ``max_rows``."""
    found = await asyncio.to_thread(read, *args, max_rows + 1)
    if len(found) > max_rows:
        raise QueryError(
            f"more than {max_rows:,} {what} in that range (the server's limit, "
            "STREAMLINES_GRAPHQL_MAX_POINTS): ask for a shorter range"
        )
    return found
