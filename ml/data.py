"""Narwhal's inputs, read from the stores into the per-symbol frames of ``ml.features``.

Per symbol, one frame sorted by ``time`` (the bar's start, UTC, datetime64[ns]):

- ``open, high, low, close, volume``: the gathered bars (bucket ``market``, measurement
  ``bars``, tags symbol and timeframe). The *adjusted* values (``adj_open`` .. ``adj_close``,
  ``adj_volume``) where the bar has them, else the raw ones, row by row: the currents job
  computes its indicators on the adjusted close (else the close), so the features that compare
  the close with an indicator compare like with like, and returns do not jump at splits.
- the indicator columns of ``ml.features.INDICATOR_COLUMNS`` (``rsi_14``, ``macd_histogram``,
  ``bollinger_upper`` ...): the currents job's records at the bar's time (bucket
  ``analytics``, measurement ``currents``, metrics ``<family>_<timeframe>``); NaN where it has
  none (still warming up, or not run).
- ``spread_rel``: for 1-minute bars, the mean of spread / mid over ripples' ``spread`` records
  (one per trade, measurement ``ripples``) in the bar's minute; NaN where there were none and
  for other timeframes.

Every query is a constant Flux text; symbols, times and names reach InfluxDB only as bound
parameters. Times travel as integer nanoseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from ml.features import INDICATOR_COLUMNS, SPREAD_COLUMN
from streamlines.connections import influx_client_config
from streamlines.contracts.influx import MEASUREMENT_BARS, MEASUREMENT_CURRENTS, MEASUREMENT_RIPPLES
from streamlines.contracts.metrics import METRIC_SPREAD, indicator_metric
from streamlines.contracts.time import datetime_to_ns, utc
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError
from streamlines.settings import Settings

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
BAR_FIELDS = [*PRICE_COLUMNS, *(f"adj_{c}" for c in PRICE_COLUMNS)]
MINUTE_NS = 60_000_000_000

_BARS = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => r.timeframe == timeframe and contains(value: r._field, set: fields))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> map(fn: (r) => ({{r with t_ns: int(v: r._time)}})){tail}
"""
# The bars of one symbol and timeframe starting in [start, stop), oldest first.
BARS_FLUX = _BARS.format(tail="")
# The last ``last_n`` of them (the look-back before the range).
LAST_BARS_FLUX = _BARS.format(tail="\n  |> tail(n: last_n)")

# The indicator records of one symbol, one row per time, a column ``<metric>_<field>`` each.
CURRENTS_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => contains(value: r.metric, set: metrics))
  |> filter(fn: (r) => contains(value: r._field, set: fields))
  |> pivot(rowKey: ["_time"], columnKey: ["metric", "_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""

# Mean spread / mid of one symbol's spread records in each minute, at the minute's start.
SPREAD_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => r.metric == metric and (r._field == "spread" or r._field == "mid"))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> filter(fn: (r) => exists r.spread and exists r.mid and r.mid > 0.0)
  |> map(fn: (r) => ({r with _value: r.spread / r.mid}))
  |> aggregateWindow(every: 1m, fn: mean, createEmpty: false, timeSrc: "_start")
  |> group()
  |> map(fn: (r) => ({t_ns: int(v: r._time), spread_rel: r._value}))
"""


class FluxReader:
    """Runs constant Flux with bound parameters; InfluxDB's failures become ``UserError``."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.influx_url
        self._client = InfluxDBClient(**influx_client_config(settings), timeout=60_000)
        self._query = self._client.query_api()

    def frame(self, flux: str, params: dict[str, Any], bucket: str) -> pd.DataFrame:
        """The result as one DataFrame (no columns when empty)."""
        try:
            result = self._query.query_data_frame(flux, params=params)
        except ApiException as exc:
            if exc.status == 404:
                raise UserError(
                    f"InfluxDB at {self.url} has no bucket {bucket!r}",
                    "start the stack (`streamlines stack up`) or name an existing bucket",
                ) from None
            raise UserError(
                f"InfluxDB at {self.url} refused the query ({exc.status}): {exc.body}"
            ) from None
        except (HTTPError, OSError) as exc:
            raise UserError(
                f"InfluxDB at {self.url} did not answer ({exc})",
                "start it with `streamlines stack up`",
            ) from None
        if isinstance(result, list):
            return pd.concat(result, ignore_index=True) if result else pd.DataFrame()
        return result

    def close(self) -> None:
        self._client.close()


def load_frames(
    settings: Settings,
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
    timeframe: BarTimeframe | str,
    *,
    warmup_bars: int = 0,
    market_bucket: str | None = None,
    analytics_bucket: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Each symbol's frame (see the module docstring) of the bars starting in [start, end),
    preceded by up to ``warmup_bars`` earlier bars (the features' look-back: see
    ``ml.features.max_lookback``; looked for within three times their length plus a week).

    Buckets default to the settings' (``STREAMLINES_GATHER_BUCKET`` for bars,
    ``STREAMLINES_GRAPHQL_ANALYTICS_BUCKET`` for the analytics). ``UserError`` when InfluxDB
    does not answer or a symbol has no bars in the range."""
    timeframe = BarTimeframe(timeframe)
    start, end = utc(start), utc(end)
    if end <= start:
        raise UserError(f"the range {start} .. {end} is empty", "give an end after the start")
    window = _Window(datetime_to_ns(start), datetime_to_ns(end), timeframe, warmup_bars)
    buckets = (market_bucket or settings.gather_bucket,
               analytics_bucket or settings.graphql_analytics_bucket)  # fmt: skip
    reader = FluxReader(settings)
    try:
        return {symbol: _load_symbol(reader, symbol, window, *buckets) for symbol in symbols}
    finally:
        reader.close()


class _Window:
    def __init__(self, start_ns: int, end_ns: int, timeframe: BarTimeframe, warmup: int) -> None:
        self.start_ns, self.end_ns = start_ns, end_ns
        self.timeframe = timeframe
        self.warmup = warmup
        reach = 3 * warmup * timeframe.length + timedelta(days=7)
        self.warmup_start_ns = start_ns - int(reach.total_seconds()) * 1_000_000_000


def _load_symbol(
    reader: FluxReader, symbol: str, window: _Window, market: str, analytics: str
) -> pd.DataFrame:
    bars = _bars(reader, symbol, window, market)
    if bars.empty:
        raise UserError(
            f"InfluxDB bucket {market!r} has no {window.timeframe} bars of {symbol} from "
            f"{_day(window.start_ns)} to {_day(window.end_ns)}",
            f"gather them: `streamlines gather --symbols {symbol} --start "
            f"{_day(window.start_ns)} --end {_day(window.end_ns)} --timeframe {window.timeframe}`",
        )
    if window.warmup > 0:
        bars = pd.concat([_warmup_bars(reader, symbol, window, market), bars], ignore_index=True)
    first_ns = int(bars["t_ns"].iloc[0])
    frame = bars.merge(_indicators(reader, symbol, window, analytics, first_ns), "left", "t_ns")
    frame = frame.merge(_spread(reader, symbol, window, analytics, first_ns), "left", "t_ns")
    frame.insert(0, "time", pd.to_datetime(frame["t_ns"], unit="ns", utc=True))
    columns = ["time", *PRICE_COLUMNS, *INDICATOR_COLUMNS, SPREAD_COLUMN]
    return frame[columns].astype({c: "float64" for c in columns[1:]})


def _day(t_ns: int) -> str:
    return pd.Timestamp(t_ns, unit="ns", tz="UTC").strftime("%Y-%m-%d")


def _bar_params(symbol: str, window: _Window, bucket: str) -> dict[str, Any]:
    return {
        "bucket_name": bucket,
        "measurement": MEASUREMENT_BARS,
        "symbol": symbol,
        "timeframe": str(window.timeframe),
        "fields": BAR_FIELDS,
        "start_ns": window.start_ns,
        "stop_ns": window.end_ns,
    }


def _bars(reader: FluxReader, symbol: str, window: _Window, bucket: str) -> pd.DataFrame:
    return _prices(reader.frame(BARS_FLUX, _bar_params(symbol, window, bucket), bucket))


def _warmup_bars(reader: FluxReader, symbol: str, window: _Window, bucket: str) -> pd.DataFrame:
    params = _bar_params(symbol, window, bucket)
    params.update(start_ns=window.warmup_start_ns, stop_ns=window.start_ns, last_n=window.warmup)
    return _prices(reader.frame(LAST_BARS_FLUX, params, bucket))


def _prices(raw: pd.DataFrame) -> pd.DataFrame:
    """``t_ns`` and the prices: adjusted where the bar has them, else raw."""
    out = pd.DataFrame({"t_ns": _times(raw)})
    for column in PRICE_COLUMNS:
        value = _floats(raw, column)
        adjusted = _floats(raw, f"adj_{column}")
        out[column] = np.where(np.isnan(adjusted), value, adjusted)
    return out


def _times(raw: pd.DataFrame) -> np.ndarray:
    return raw["t_ns"].to_numpy("int64") if "t_ns" in raw else np.empty(0, dtype="int64")


def _floats(raw: pd.DataFrame, column: str) -> np.ndarray:
    if column not in raw:
        return np.full(len(raw), np.nan)
    return raw[column].to_numpy("float64", na_value=np.nan)


def _indicators(
    reader: FluxReader, symbol: str, window: _Window, bucket: str, first_ns: int
) -> pd.DataFrame:
    timeframe = str(window.timeframe)
    metrics = sorted({indicator_metric(f, timeframe) for f, _ in INDICATOR_COLUMNS.values()})
    params = {
        "bucket_name": bucket,
        "measurement": MEASUREMENT_CURRENTS,
        "symbol": symbol,
        "metrics": metrics,
        "fields": sorted({field for _, field in INDICATOR_COLUMNS.values()}),
        "start_ns": first_ns,
        "stop_ns": window.end_ns,
    }
    raw = reader.frame(CURRENTS_FLUX, params, bucket)
    out = pd.DataFrame({"t_ns": _times(raw)})
    for column, (family, field) in INDICATOR_COLUMNS.items():
        out[column] = _floats(raw, f"{indicator_metric(family, timeframe)}_{field}")
    return out


def _spread(
    reader: FluxReader, symbol: str, window: _Window, bucket: str, first_ns: int
) -> pd.DataFrame:
    if window.timeframe != BarTimeframe.MINUTE_1:
        return pd.DataFrame(
            {"t_ns": _times(pd.DataFrame()), SPREAD_COLUMN: _floats(pd.DataFrame(), "")}
        )
    params = {
        "bucket_name": bucket,
        "measurement": MEASUREMENT_RIPPLES,
        "symbol": symbol,
        "metric": METRIC_SPREAD,
        # Whole minutes, so the last bar's minute is averaged in full.
        "start_ns": first_ns - first_ns % MINUTE_NS,
        "stop_ns": -(-window.end_ns // MINUTE_NS) * MINUTE_NS,
    }
    raw = reader.frame(SPREAD_FLUX, params, bucket)
    return pd.DataFrame({"t_ns": _times(raw), SPREAD_COLUMN: _floats(raw, SPREAD_COLUMN)})
