"""Independent pandas/NumPy computations of what the ripples job outputs, to check it against.

Semantics as in ``jobs/ripples/``'s docstring: bars by ``t_ns // width`` (window end as the
key), per-trade 5-minute RANGE statistics over millisecond event times with sample (n - 1)
deviations, and the latest quote at or before each trade's millisecond.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tests.references import compare

# A mean log return is a sum of terms of +-1e-4..1e-3 that can cancel to ~0 (price back where it
# was 5 minutes ago); there "1e-9 relative" means relative to the terms, i.e. 1e-15 absolute.
ATOL = {"ret_mean": 1e-15}


def reference_bars(trades: pd.DataFrame, seconds: int) -> pd.DataFrame:
    width = seconds * 1_000_000_000
    frame = trades.assign(bucket=trades.t_ns // width, pv=trades.price * trades["size"])
    grouped = frame.groupby(["symbol", "bucket"], sort=True)
    bars = grouped.agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),
        pv=("pv", "sum"),
        count=("price", "size"),
    ).reset_index()
    bars["vwap"] = bars.pv / bars.volume
    bars["t_ns"] = (bars.bucket + 1) * width
    return bars.drop(columns=["pv", "bucket"])


def reference_rolling(trades: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for symbol, group in trades.groupby("symbol"):
        t = group.t_ns.to_numpy()
        ms = t // 1_000_000
        price = group.price.to_numpy()
        ret = np.concatenate([[np.nan], np.log(price[1:] / price[:-1])])
        # RANGE window: every trade from 5 minutes before this millisecond through its end.
        lo = np.searchsorted(ms, ms - 300_000, side="left")
        hi = np.searchsorted(ms, ms, side="right")
        for i in range(len(t)):
            p = price[lo[i] : hi[i]]
            r = ret[lo[i] : hi[i]]
            r = r[~np.isnan(r)]
            rows.append(
                {
                    "symbol": symbol,
                    "t_ns": int(t[i]),
                    "price_mean": p.mean(),
                    # Two-pass deviation of the prices shifted by the window's first one: the
                    # same number, without the rounding of a mean of ~1e3 (which would make
                    # five equal prices deviate by ~1e-13 instead of 0).
                    "price_std": (p - p[0]).std(ddof=1) if len(p) > 1 else None,
                    "price_count": len(p),
                    "ret_mean": r.mean() if len(r) else None,
                    "ret_std": r.std(ddof=1) if len(r) > 1 else None,
                    "ret_count": len(r),
                }
            )
    return pd.DataFrame(rows)


def reference_spread(trades: pd.DataFrame, quotes: pd.DataFrame) -> pd.DataFrame:
    left = trades.assign(ms=trades.t_ns // 1_000_000).sort_values("ms")
    right = quotes.assign(ms=quotes.t_ns // 1_000_000).sort_values("ms")
    joined = pd.merge_asof(
        left, right[["symbol", "ms", "bid_price", "ask_price"]], on="ms", by="symbol"
    )
    return pd.DataFrame(
        {
            "symbol": joined.symbol,
            "t_ns": joined.t_ns,
            "bid": joined.bid_price,
            "ask": joined.ask_price,
            "spread": joined.ask_price - joined.bid_price,
            "mid": (joined.bid_price + joined.ask_price) / 2,
        }
    )


def assert_close(received: dict, expected: dict, what: str) -> None:
    compare.assert_close(received, expected, what, ATOL)


def reference_records(trades: pd.DataFrame, quotes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every record the ripples job writes for ``trades`` and ``quotes``, by metric."""
    return {
        "bar_1s": reference_bars(trades, 1),
        "bar_1m": reference_bars(trades, 60),
        "rolling_5m": reference_rolling(trades),
        "spread": reference_spread(trades, quotes),
    }


def assert_records_match(
    got: Mapping[str, Mapping[tuple[str, int], Mapping[str, Any]]],
    expected: Mapping[str, pd.DataFrame],
) -> None:
    """``got`` (by metric, then by (symbol, t_ns): the values) holds exactly the records of
    ``expected`` (``reference_records``), each value close to the reference's."""
    assert set(got) == set(expected)
    for metric, frame in expected.items():
        assert len(got[metric]) == len(frame), metric
        for row in frame.to_dict("records"):
            key = (row.pop("symbol"), int(row.pop("t_ns")))
            assert key in got[metric], f"{metric} missing {key}"
            assert_close(dict(got[metric][key]), row, f"{metric} {key}")
