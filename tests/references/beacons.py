"""Independent pandas computations of what the beacons job outputs, to check it against.

Valuation: each fact's values forward-filled against the daily closes (``merge_asof``,
backward, an exact date counts). Events: the reaction day is located with ``searchsorted`` on
the trading dates (an announcement after the close reacts the next trading day, anything else
the same day), window returns from ``pct_change``-style ratios of the adjusted closes on those
positions. Studies: pandas' mean, median and sample std of the abnormal returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOWS = {"0_1": (0, 1), "m1_5": (-1, 5)}
RATIOS = {
    "pe": ("earnings_ttm", True),
    "earnings_yield": ("earnings_ttm", False),
    "dividend_yield": ("dividend_ttm", False),
    "price_sales": ("sales_ttm", True),
    "cape": ("earnings_10y", True),
}


def valuation(close: pd.Series, facts: dict[str, pd.Series]) -> pd.DataFrame:
    """``close`` indexed by the bar's UTC midnight; ``facts`` each indexed by the time its
    value is valid from. One row per bar, a column per ratio and fact (NaN where unknown)."""
    frame = pd.DataFrame({"close": close}).sort_index()
    frame.index.name = "t"
    for fact, series in facts.items():
        right = series.sort_index().rename(fact).to_frame()
        right.index.name = "t"
        frame = pd.merge_asof(frame, right, left_index=True, right_index=True, direction="backward")
    for fact in ("earnings_ttm", "dividend_ttm", "sales_ttm", "earnings_10y"):
        if fact not in frame:
            frame[fact] = np.nan
    for name, (fact, price_on_top) in RATIOS.items():
        frame[name] = frame["close"] / frame[fact] if price_on_top else frame[fact] / frame["close"]
    return frame


def reaction_positions(dates: pd.DatetimeIndex, announced: pd.Series) -> np.ndarray:
    """Day 0's position in ``dates`` (the trading dates, ascending) for each announcement date,
    ``announced`` the boolean 'after the close' per date: the next trading date after an
    after-the-close date, else the first on or after it."""
    positions = [
        dates.searchsorted(day, side="right" if after_close else "left")
        for day, after_close in zip(announced.index, announced.to_numpy(), strict=True)
    ]
    return np.array(positions)


def event_moves(adj_close: pd.Series, index_close: pd.Series, announced: pd.Series) -> pd.DataFrame:
    """One row per event, indexed by day 0's date: move and, per window, return, index_return
    and abnormal (NaN where a day is out of range)."""
    dates = pd.DatetimeIndex(adj_close.index)
    stock = adj_close.to_numpy()
    market = index_close.reindex(dates).to_numpy()
    rows = {}
    for p in reaction_positions(dates, announced):
        if p >= len(dates):
            continue

        def ret(values: np.ndarray, first: int, last: int, p: int = p) -> float:
            a, b = p + first - 1, p + last
            return values[b] / values[a] - 1 if a >= 0 and b < len(values) else np.nan

        row = {"move": ret(stock, 0, 0)}
        for window, (first, last) in WINDOWS.items():
            row[f"return_{window}"] = ret(stock, first, last)
            row[f"index_return_{window}"] = ret(market, first, last)
            row[f"abnormal_{window}"] = row[f"return_{window}"] - row[f"index_return_{window}"]
        rows[dates[p]] = row
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


def event_study(abnormal: pd.Series) -> dict[str, float]:
    """The study over every value of ``abnormal`` (NaN ones left out)."""
    known = abnormal.dropna()
    std = known.std(ddof=1)
    return {
        "count": float(len(known)),
        "mean": known.mean(),
        "median": known.median(),
        "std": std,
        "min": known.min(),
        "max": known.max(),
        "t_stat": known.mean() / (std / np.sqrt(len(known))),
    }
