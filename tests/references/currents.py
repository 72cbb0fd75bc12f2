"""Independent pandas/NumPy computations of what the currents job outputs, to check it against.

Semantics as in ``jobs/currents/``'s docstring. Each function takes one (symbol, timeframe)
series of closes, in time order with unique times, indexed by ``t_ns``, and returns a frame
indexed by ``t_ns`` with one column per output value (NaN where the job reports null). Standard
deviations are two-pass (``np.std`` of each window): pandas' ``rolling().std()`` is an online
update whose own rounding reaches ~2e-10 relative on the S&P 500 series, too close to the 1e-9
the job is held to. They are taken of the window's prices minus its first one: the same number,
without the rounding of a mean of ~1e3 (which would make 20 equal prices deviate by ~1e-12
instead of 0).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from tests.references.compare import assert_close as assert_close  # for callers of this module

NS_PER_MINUTE = 60_000_000_000
DAY_NS = 24 * 60 * NS_PER_MINUTE


def sma(close: pd.Series, periods: list[int]) -> pd.DataFrame:
    return pd.DataFrame({f"sma_{n}": close.rolling(n).mean() for n in periods})


def ema(close: pd.Series, periods: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {f"ema_{n}": close.ewm(span=n, adjust=False, min_periods=n).mean() for n in periods}
    )


def rsi(close: pd.Series, n: int = 14) -> pd.DataFrame:
    """Wilder: the first averages are the simple means of the first n changes, then
    ``ewm(alpha=1/n, adjust=False)`` continues from them (the same recursion as Wilder's)."""
    change = close.diff()
    gain, loss = change.clip(lower=0.0), (-change).clip(lower=0.0)
    out = pd.Series(np.nan, index=close.index)
    if len(close) > n:

        def wilder(x: pd.Series) -> pd.Series:
            seeded = pd.concat([pd.Series([x.iloc[1 : n + 1].mean()]), x.iloc[n + 1 :]])
            return seeded.ewm(alpha=1.0 / n, adjust=False).mean()

        avg_gain, avg_loss = wilder(gain).to_numpy(), wilder(loss).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            value = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
        value = np.where(avg_loss == 0.0, np.where(avg_gain > 0.0, 100.0, 50.0), value)
        out.iloc[n:] = value
    return pd.DataFrame({f"rsi_{n}": out})


def bollinger(close: pd.Series, n: int = 20, k: float = 2.0) -> pd.DataFrame:
    """Population (ddof=0) standard deviation, as Bollinger defined the bands."""
    x = close.to_numpy()
    middle = close.rolling(n).mean().to_numpy()
    std = np.full(len(x), np.nan)
    if len(x) >= n:
        windows = sliding_window_view(x, n)
        std[n - 1 :] = (windows - windows[:, :1]).std(axis=1, ddof=0)
    return pd.DataFrame(
        {"middle": middle, "upper": middle + k * std, "lower": middle - k * std, "std": std},
        index=close.index,
    )


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    line = close.ewm(span=fast, adjust=False).mean() - close.ewm(span=slow, adjust=False).mean()
    sig = line.ewm(span=signal, adjust=False).mean()
    bar = np.arange(1, len(close) + 1)
    return pd.DataFrame(
        {
            "macd": line.where(bar >= slow),
            "signal": sig.where(bar >= slow + signal - 1),
            "histogram": (line - sig).where(bar >= slow + signal - 1),
        }
    )


def crossovers(fast: pd.Series, slow: pd.Series) -> pd.DataFrame:
    """Rows only where the sign of fast - slow is first known or flips (equal keeps it)."""
    sign = np.sign(fast - slow).replace(0.0, np.nan).ffill()
    previous = sign.shift(1)
    changed = sign.notna() & (sign != previous)
    return pd.DataFrame(
        {
            "signal": sign[changed],
            "cross": previous[changed].notna().astype(float),
            "fast": fast[changed],
            "slow": slow[changed],
        }
    )


def volatility(bars: pd.DataFrame) -> pd.DataFrame:
    """Rolling 24-hour deviation of one symbol's 1-minute closes: one row per minute T (round),
    from the first bar's end to 24 h after the last bar's start, over the bars that started in
    [T - 24 h, T): std (sample, ddof=1, NaN under two bars), mean, count, rel_std = std / mean.
    ``bars``: columns t_ns (bar start) and close, sorted by t_ns."""
    t = bars.t_ns.to_numpy()
    close = bars.close.to_numpy()
    rounds = np.arange((t[0] // NS_PER_MINUTE + 1) * NS_PER_MINUTE, t[-1] + DAY_NS + 1,
                       NS_PER_MINUTE)  # fmt: skip
    lo = np.searchsorted(t, rounds - DAY_NS, side="left")
    hi = np.searchsorted(t, rounds, side="left")
    rows = []
    for end, a, b in zip(rounds, lo, hi, strict=True):
        window = close[a:b]
        if len(window) == 0:
            continue
        std = (window - window[0]).std(ddof=1) if len(window) > 1 else math.nan
        mean = window.mean()
        rows.append({"t_ns": int(end), "std": std, "mean": mean, "count": float(len(window)),
                     "rel_std": std / mean})  # fmt: skip
    return pd.DataFrame(rows).set_index("t_ns")


def expected_indicators(close: pd.Series, timeframe: str) -> dict[str, pd.DataFrame]:
    """Everything the job writes for one series with its default periods, by metric name."""
    s, e = sma(close, [50, 200]), ema(close, [12, 26])
    frames = {
        "sma": sma(close, [20, 50, 200]),
        "ema": ema(close, [20, 50, 200]),
        "rsi": rsi(close, 14),
        "bollinger": bollinger(close, 20, 2.0),
        "macd": macd(close, 12, 26, 9),
        "cross_sma50_sma200": crossovers(s.sma_50, s.sma_200),
        "cross_ema12_ema26": crossovers(e.ema_12, e.ema_26),
    }
    return {f"{name}_{timeframe}": frame.dropna(how="all") for name, frame in frames.items()}
