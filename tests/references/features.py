"""Independent computations of Narwhal's features and labels (``ml/features.py``), to check it
against: explicit Python loops over plain lists, with ``math`` and ``statistics`` (exact
rational sums), where ``ml.features`` uses vectorised NumPy. Each takes one symbol's bars (the
columns ``ml.features`` documents) and returns a list with one value per bar (NaN where the
feature is unknown).
"""

from __future__ import annotations

import math
import statistics

import pandas as pd

from tests.references import currents

NAN = math.nan


def _values(bars: pd.DataFrame, column: str) -> list[float]:
    if column not in bars.columns:
        return [NAN] * len(bars)
    return [float(v) for v in bars[column].tolist()]


def _any_nan(values: list[float]) -> bool:
    return any(math.isnan(v) for v in values)


def log_return(bars: pd.DataFrame, lag: int) -> list[float]:
    close = _values(bars, "close")
    return [NAN if t < lag else math.log(close[t] / close[t - lag]) for t in range(len(close))]


def volatility(bars: pd.DataFrame, n: int = 20) -> list[float]:
    close = _values(bars, "close")
    out = []
    for t in range(len(close)):
        if t < n:
            out.append(NAN)
            continue
        window = [math.log(close[i] / close[i - 1]) for i in range(t - n + 1, t + 1)]
        out.append(NAN if _any_nan(window) else statistics.stdev(window))
    return out


def range_rel(bars: pd.DataFrame) -> list[float]:
    high, low, close = (_values(bars, c) for c in ("high", "low", "close"))
    return [(h - lo) / c for h, lo, c in zip(high, low, close, strict=True)]


def volume_z(bars: pd.DataFrame, n: int = 20) -> list[float]:
    volume = _values(bars, "volume")
    out = []
    for t in range(len(volume)):
        window = volume[t - n + 1 : t + 1] if t >= n - 1 else []
        if not window or _any_nan(window):
            out.append(NAN)
            continue
        mean, std = statistics.mean(window), statistics.stdev(window)
        out.append(0.0 if std == 0 else (volume[t] - mean) / std)
    return out


def pct_b(bars: pd.DataFrame) -> list[float]:
    close, upper, lower = (
        _values(bars, c) for c in ("close", "bollinger_upper", "bollinger_lower")
    )
    out = []
    for c, u, lo in zip(close, upper, lower, strict=True):
        if math.isnan(u) or math.isnan(lo):
            out.append(NAN)
        else:
            out.append(0.5 if u == lo else (c - lo) / (u - lo))
    return out


def distance(bars: pd.DataFrame, average: str) -> list[float]:
    close, avg = _values(bars, "close"), _values(bars, average)
    return [c / a - 1.0 for c, a in zip(close, avg, strict=True)]


def expected_features(bars: pd.DataFrame) -> dict[str, list[float]]:
    """Every catalogue feature of one symbol's bars, by name."""
    return {
        "ret_1": log_return(bars, 1),
        "ret_5": log_return(bars, 5),
        "ret_10": log_return(bars, 10),
        "ret_20": log_return(bars, 20),
        "vol_20": volatility(bars),
        "range_rel": range_rel(bars),
        "volume_z_20": volume_z(bars),
        "rsi_14": _values(bars, "rsi_14"),
        "macd_hist": _values(bars, "macd_histogram"),
        "bb_pct_b": pct_b(bars),
        "dist_sma_20": distance(bars, "sma_20"),
        "dist_sma_50": distance(bars, "sma_50"),
        "dist_sma_200": distance(bars, "sma_200"),
        "dist_ema_20": distance(bars, "ema_20"),
        "dist_ema_50": distance(bars, "ema_50"),
        "spread_rel": _values(bars, "spread_rel"),
    }


def forward_label(close: list[float], horizon: int, kind: str) -> list[float]:
    """ln(close[t + h] / close[t]), or whether it is > 0, for each t; NaN past the data."""
    out = []
    for t, price in enumerate(close):
        if t + horizon >= len(close):
            out.append(NAN)
            continue
        value = math.log(close[t + horizon] / price)
        out.append(value if kind == "regression" else float(value > 0))
    return out


def with_indicators(bars: pd.DataFrame) -> pd.DataFrame:
    """``bars`` (a ``streamlines.datasets`` frame indexed by time) as the input of
    ``ml.features``: a ``time`` column, OHLCV, and the indicator columns as the currents job
    computes them on the close (``tests/references/currents.py``)."""
    close = bars["close"]
    frame = bars[["open", "high", "low", "close", "volume"]].copy()
    sma = currents.sma(close, [20, 50, 200])
    ema = currents.ema(close, [20, 50])
    frame["rsi_14"] = currents.rsi(close, 14)["rsi_14"]
    frame["macd_histogram"] = currents.macd(close)["histogram"]
    bands = currents.bollinger(close)
    frame["bollinger_upper"], frame["bollinger_lower"] = bands["upper"], bands["lower"]
    for name in ("sma_20", "sma_50", "sma_200"):
        frame[name] = sma[name]
    for name in ("ema_20", "ema_50"):
        frame[name] = ema[name]
    return frame.rename_axis("time").reset_index()
