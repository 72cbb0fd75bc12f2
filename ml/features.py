"""The one feature code path: training (``build_matrix``), batch scoring and the stream job
(``scoring_matrix``, ``feature_frame``) all compute features here, so they cannot disagree.

Input: one symbol's bars, a DataFrame sorted by ``time`` (unique, ascending) with columns
``time, open, high, low, close, volume`` and, optionally, the indicator inputs below. Prices
are whatever the loader gives (``ml.data`` gives the split/dividend-adjusted ones, as the
currents job computes its indicators on them). A missing indicator column makes the features
that need it NaN (XGBoost treats NaN as missing).

========================  =====================================================================
input column              what it holds at bar t (the currents job's record at the bar's time)
========================  =====================================================================
``rsi_14``                metric ``rsi_<tf>``, field ``rsi_14``
``macd_histogram``        metric ``macd_<tf>``, field ``histogram``
``bollinger_upper``       metric ``bollinger_<tf>``, field ``upper``
``bollinger_lower``       metric ``bollinger_<tf>``, field ``lower``
``sma_20/50/200``         metric ``sma_<tf>``, fields ``sma_20``, ``sma_50``, ``sma_200``
``ema_20/50``             metric ``ema_<tf>``, fields ``ema_20``, ``ema_50``
``spread_rel``            ripples' metric ``spread``: mean of spread / mid over the trades in
                          the bar (1-minute bars only)
========================  =====================================================================

No look-ahead, and no dependence on how much history came before: every feature at row t is
computed from rows t - lookback .. t only, by the same element-wise arithmetic wherever t is.
So a stream job that keeps the last ``max_lookback(features) + 1`` bars of a symbol gets the
same value, bit for bit, as a batch run over years (the rolling windows are summed column by
column in a fixed order instead of with pandas' running sums, whose rounding depends on the
rows before the window).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from ml.config import ConfigError, TrainingConfig
from ml.features_catalogue import BY_NAME, FEATURE_NAMES
from streamlines.errors import UserError

BAR_COLUMNS = ("time", "open", "high", "low", "close", "volume")
# Each indicator input column: (family of the currents metric ``<family>_<timeframe>``, field).
INDICATOR_COLUMNS: dict[str, tuple[str, str]] = {
    "rsi_14": ("rsi", "rsi_14"),
    "macd_histogram": ("macd", "histogram"),
    "bollinger_upper": ("bollinger", "upper"),
    "bollinger_lower": ("bollinger", "lower"),
    "sma_20": ("sma", "sma_20"),
    "sma_50": ("sma", "sma_50"),
    "sma_200": ("sma", "sma_200"),
    "ema_20": ("ema", "ema_20"),
    "ema_50": ("ema", "ema_50"),
}
SPREAD_COLUMN = "spread_rel"
INPUT_COLUMNS = (*BAR_COLUMNS, *INDICATOR_COLUMNS, SPREAD_COLUMN)
LABEL_KINDS = ("classification", "regression")
WINDOW = 20  # the rolling window of vol_20 and volume_z_20
# The input columns a feature reads at bars before t (the returns and vol_20 the closes,
# volume_z_20 the volumes); every other column only at t. So a stream's look-back needs these
# columns of the bars before t and all of bar t (a test holds every feature to it).
HISTORY_COLUMNS = ("close", "volume")

Array = np.ndarray
Computation = Callable[[pd.DataFrame], Array]


def max_lookback(features: Sequence[str]) -> int:
    """How many bars before t the features need (a stream keeps this many plus the current)."""
    return max((BY_NAME[name].lookback for name in features), default=0)


# --- the features, each a function of the whole frame's columns (float64 arrays) ----------


def _column(bars: pd.DataFrame, name: str) -> Array:
    if name not in bars.columns:
        return np.full(len(bars), np.nan)
    return bars[name].to_numpy(dtype="float64", na_value=np.nan)


def _lagged_log_return(close: Array, lag: int) -> Array:
    out = np.full(len(close), np.nan)
    if len(close) > lag:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[lag:] = np.log(close[lag:] / close[:-lag])
    return out


def _windows(x: Array, n: int) -> list[Array]:
    """Column j of the rolling windows of length n ending at rows n-1 .. len-1: x[j : ...]."""
    end = len(x) - n + 1
    return [x[j : j + end] for j in range(n)]


def _rolling_mean_std(x: Array, n: int) -> tuple[Array, Array]:
    """The mean and the sample (n - 1) standard deviation of the n values ending at each row
    (NaN for the first n - 1 rows and for windows holding a NaN): two-pass, summed column by
    column in window order, so each value depends on its window's values only."""
    mean, std = np.full(len(x), np.nan), np.full(len(x), np.nan)
    if len(x) < n:
        return mean, std
    columns = _windows(x, n)
    total = columns[0].copy()
    for column in columns[1:]:
        total += column
    m = total / n
    squares = (columns[0] - m) ** 2
    for column in columns[1:]:
        squares += (column - m) ** 2
    mean[n - 1 :] = m
    std[n - 1 :] = np.sqrt(squares / (n - 1))
    return mean, std


def _vol(bars: pd.DataFrame) -> Array:
    returns = _lagged_log_return(_column(bars, "close"), 1)
    return _rolling_mean_std(returns, WINDOW)[1]


def _volume_z(bars: pd.DataFrame) -> Array:
    volume = _column(bars, "volume")
    mean, std = _rolling_mean_std(volume, WINDOW)
    deviation = volume - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        z = deviation / std
    # 20 equal volumes: the volume is the mean, so z is 0 (not 0 / 0).
    return np.where((std == 0.0) & (deviation == 0.0), 0.0, z)


def _range_rel(bars: pd.DataFrame) -> Array:
    return (_column(bars, "high") - _column(bars, "low")) / _column(bars, "close")


def _pct_b(bars: pd.DataFrame) -> Array:
    close, upper, lower = (
        _column(bars, c) for c in ("close", "bollinger_upper", "bollinger_lower")
    )
    width = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_b = (close - lower) / width
    # Bands of width 0 (20 equal prices, the close among them): the close is on the middle.
    return np.where(width == 0.0, 0.5, pct_b)


def _distance(average: str) -> Computation:
    def compute(bars: pd.DataFrame) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _column(bars, "close") / _column(bars, average) - 1.0

    return compute


def _ret(lag: int) -> Computation:
    return lambda bars: _lagged_log_return(_column(bars, "close"), lag)


def _copy(column: str) -> Computation:
    return lambda bars: _column(bars, column)


COMPUTATIONS: dict[str, Computation] = {
    "ret_1": _ret(1),
    "ret_5": _ret(5),
    "ret_10": _ret(10),
    "ret_20": _ret(20),
    "vol_20": _vol,
    "range_rel": _range_rel,
    "volume_z_20": _volume_z,
    "rsi_14": _copy("rsi_14"),
    "macd_hist": _copy("macd_histogram"),
    "bb_pct_b": _pct_b,
    "dist_sma_20": _distance("sma_20"),
    "dist_sma_50": _distance("sma_50"),
    "dist_sma_200": _distance("sma_200"),
    "dist_ema_20": _distance("ema_20"),
    "dist_ema_50": _distance("ema_50"),
    "spread_rel": _copy(SPREAD_COLUMN),
}
assert tuple(COMPUTATIONS) == FEATURE_NAMES, "every catalogue feature has one computation"


# --- one symbol ----------------------------------------------------------------------------


def _check_features(features: Sequence[str]) -> None:
    unknown = [name for name in features if name not in COMPUTATIONS]
    if unknown:
        raise ConfigError(
            f"field `features`: unknown feature(s) {', '.join(unknown)}",
            f"choose from {', '.join(FEATURE_NAMES)}",
        )


def _utc_times(time: pd.Series) -> pd.Series:
    return pd.to_datetime(time, utc=True).astype("datetime64[ns, UTC]")


def _checked_times(bars: pd.DataFrame) -> pd.Series:
    """The bars' times as UTC, index 0..n-1, once the bars are known to be usable."""
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise UserError(
            f"the bars have no column(s) {', '.join(missing)}",
            f"give each symbol's bars the columns {', '.join(BAR_COLUMNS)}",
        )
    time = _utc_times(bars["time"]).reset_index(drop=True)
    if not time.is_monotonic_increasing or not time.is_unique:
        raise UserError(
            "the bars are not in time order with one bar per time",
            "sort each symbol's bars by time and drop repeated times",
        )
    return time


def feature_frame(bars: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """``time`` (UTC) and the ``features`` (float64, in the given order) of one symbol's bars,
    row for row (index 0..n-1)."""
    _check_features(features)
    frame = pd.DataFrame({"time": _checked_times(bars)})
    for name in features:
        frame[name] = COMPUTATIONS[name](bars)
    return frame


def label(close: pd.Series, horizon: int, kind: str) -> pd.Series:
    """The label of each bar: the forward log return ln(close[t + horizon] / close[t])
    (``regression``), or 1.0 when it is positive and 0.0 otherwise (``classification``); NaN
    for the last ``horizon`` bars, whose horizon runs past the data (and where a close is
    missing)."""
    if kind not in LABEL_KINDS:
        raise ValueError(f"label kind {kind!r}: choose {' or '.join(LABEL_KINDS)}")
    if horizon < 1:
        raise ValueError(f"label horizon {horizon}: at least 1 bar")
    values = close.to_numpy(dtype="float64", na_value=np.nan)
    forward = np.full(len(values), np.nan)
    if len(values) > horizon:
        with np.errstate(divide="ignore", invalid="ignore"):
            forward[:-horizon] = np.log(values[horizon:] / values[:-horizon])
    if kind == "classification":
        forward = np.where(np.isnan(forward), np.nan, (forward > 0.0).astype("float64"))
    return pd.Series(forward, index=close.index, name="label", dtype="float64")


# --- many symbols: the matrix contract -----------------------------------------------------


def _sorted(parts: list[tuple[str, pd.DataFrame]], columns: list[str]) -> pd.DataFrame:
    """The symbols' rows in one frame sorted by (time, symbol), built column by column from
    NumPy arrays (a DataFrame concat and take of a million rows costs several times more)."""
    if not parts:
        return _empty(columns)
    names = sorted({symbol for symbol, _ in parts})
    codes = np.concatenate([np.full(len(f), names.index(s), dtype="int64") for s, f in parts])
    times = np.concatenate([f["time"].array.asi8 for _, f in parts])
    order = np.lexsort((codes, times))
    time = pd.DatetimeIndex(times[order].astype("datetime64[ns]")).tz_localize("UTC")
    data: dict[str, pd.Series] = {
        "symbol": pd.Series(np.asarray(names, dtype=object)[codes[order]]),
        "time": pd.Series(time),
    }
    for column in columns[2:]:
        values = np.concatenate([f[column].to_numpy("float64") for _, f in parts])
        data[column] = pd.Series(values[order])
    return pd.DataFrame(data)


def _empty(columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    frame["symbol"] = pd.Series(dtype="object")
    frame["time"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame[columns]


def _symbol_rows(
    symbol: str, bars: pd.DataFrame, features: Sequence[str], config: TrainingConfig | None
) -> pd.DataFrame:
    rows = feature_frame(bars, features)
    if config is None:
        return rows
    in_range = _in_range(rows["time"], config.start, config.end).to_numpy()
    count = int(in_range.sum())
    if count == 0:
        raise ConfigError(
            f"fields `start`, `end`: no {config.timeframe} bars of {symbol} in "
            f"[{config.start:%Y-%m-%d %H:%M}, {config.end:%Y-%m-%d %H:%M})",
            "choose a range that holds bars, or gather them first (`streamlines gather`)",
        )
    horizon = config.label.horizon
    if count <= horizon:
        raise ConfigError(
            f"field `label.horizon`: {horizon} bars ahead, but {symbol} has only {count} "
            f"{config.timeframe} bars in the range, so no bar has a label",
            "choose a shorter horizon or a longer range",
        )
    # Labels look only at bars inside the range: nothing at or after `end` is used.
    before_end = (rows["time"] < pd.Timestamp(config.end)).to_numpy()
    close = bars["close"].reset_index(drop=True)[before_end]
    labels = label(close, horizon, config.label.kind)
    rows["label"] = np.nan
    rows.loc[before_end, "label"] = labels.to_numpy()
    rows = rows[in_range]
    return rows[rows["label"].notna()]


def _in_range(time: pd.Series, start: datetime, end: datetime) -> pd.Series:
    return (time >= pd.Timestamp(start)) & (time < pd.Timestamp(end))


def build_matrix(frames: Mapping[str, pd.DataFrame], config: TrainingConfig) -> pd.DataFrame:
    """The training matrix of ``config``: ``symbol``, ``time``, the config's features in its
    order, ``label``; the rows of bars starting in [start, end) whose label is known (a label
    never looks at a bar at or after ``end``), sorted by (time, symbol), index 0..n-1.

    ``frames[symbol]`` may hold bars before ``start``: they give the first rows of the range
    their look-back (``max_lookback``) and are not rows of the matrix. Rows with NaN features
    stay (XGBoost handles missing values). ``ConfigError`` naming ``symbols`` when a symbol has
    no frame, ``start``/``end`` when a symbol has no bar in the range, ``label.horizon`` when it
    has no more bars in the range than the horizon."""
    missing = [s for s in config.symbols if s not in frames]
    if missing:
        raise ConfigError(f"field `symbols`: no bars loaded for {', '.join(missing)}")
    parts = [(s, _symbol_rows(s, frames[s], config.features, config)) for s in config.symbols]
    return _sorted(parts, ["symbol", "time", *config.features, "label"])


def scoring_matrix(frames: Mapping[str, pd.DataFrame], features: Sequence[str]) -> pd.DataFrame:
    """``symbol``, ``time`` and the ``features`` of every bar of every symbol (no label),
    sorted by (time, symbol), index 0..n-1: what batch scoring and the stream score."""
    _check_features(features)
    parts = [(s, _symbol_rows(s, bars, features, None)) for s, bars in frames.items()]
    return _sorted(parts, ["symbol", "time", *features])
