"""The beacons job's inputs from real data, as gather writes them: the S&P 500's and GOOG's daily
bars (``streamlines.datasets``), the S&P 500's monthly fundamentals from Shiller's series and
GOOG's earnings announcements (after the close, 16:00 New York) from HistoricalEarningsData."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pandas as pd

from streamlines.contracts.events import Fundamental, HistoryBar
from streamlines.datasets import earnings_dates, load_daily_bars, shiller_monthly

NEW_YORK = ZoneInfo("America/New_York")
FACT_COLUMNS = {"earnings_ttm": "earnings", "dividend_ttm": "dividend"}


def ns(stamp: pd.Timestamp) -> int:
    return int(stamp.value)


def daily_history_bars(
    symbol: str, start: str | None = None, end: str | None = None
) -> list[HistoryBar]:
    """A daily data set as history bars (adjusted = as traded where the set has no adjusted
    close)."""
    frame = load_daily_bars(symbol).loc[start:end]
    bars = []
    for stamp, row in frame.iterrows():
        adj_close = float(row["adj_close"]) if "adj_close" in frame else float(row["close"])
        factor = adj_close / float(row["close"])
        ohlc = {k: float(row[k]) for k in ("open", "high", "low", "close")}
        bars.append(
            HistoryBar(
                symbol=symbol,
                t_ns=ns(stamp),
                timeframe="1Day",
                **ohlc,
                volume=float(row["volume"]),
                **{f"adj_{k}": v * factor for k, v in ohlc.items()},
                adj_volume=float(row["volume"]),
                adj_factor=factor,
            )
        )
    return bars


def shiller_facts(start: str = "1998-01-01", end: str = "2018-12-01") -> dict[str, pd.Series]:
    """The S&P 500's monthly facts, each valid from the month's first day."""
    monthly = shiller_monthly().loc[start:end]
    facts = {fact: monthly[column].dropna() for fact, column in FACT_COLUMNS.items()}
    facts["earnings_10y"] = (monthly["sp500"] / monthly["cape"]).dropna()
    return facts


def fundamentals(symbol: str, facts: dict[str, pd.Series]) -> list[Fundamental]:
    return [
        Fundamental(symbol=symbol, fact=fact, t_ns=ns(stamp), value=float(value), source="MULTPL")
        for fact, series in facts.items()
        for stamp, value in series.items()
    ]


def after_close_ns(day: pd.Timestamp) -> int:
    return int(datetime.combine(day.date(), time(16, 0), NEW_YORK).timestamp()) * 1_000_000_000


def goog_announcements() -> pd.DataFrame:
    """GOOG's announcements inside its daily series (34, 2004-10-21 to 2013-01-22)."""
    goog = load_daily_bars("GOOG")
    return earnings_dates("GOOG").loc[goog.index[0] : goog.index[-1]]


def goog_announcement_events() -> list[Fundamental]:
    return [
        Fundamental(
            symbol="GOOG",
            fact="earnings_announcement",
            t_ns=after_close_ns(stamp),
            value=float(row["reported_eps"]),
            source="ZACKS/EA",
            estimate=None if pd.isna(row["eps_estimate"]) else float(row["eps_estimate"]),
        )
        for stamp, row in goog_announcements().iterrows()
    ]
