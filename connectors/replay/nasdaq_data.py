"""What the replay server's Nasdaq Data Link (formerly Quandl) routes serve, all real data:

- the time series ``MULTPL/SP500_EARNINGS_MONTH``, ``SP500_DIV_MONTH``,
  ``SHILLER_PE_RATIO_MONTH`` and ``SP500_REAL_PRICE_MONTH`` from Robert Shiller's monthly S&P 500
  series (``streamlines.datasets.shiller_monthly``: trailing twelve-month earnings and dividends
  per index share, CAPE, the monthly average price), one row per month dated its first day,
  months without a value left out (as Nasdaq Data Link's MULTPL datasets publish them);
- the table ``ZACKS/EA`` (Zacks earnings announcements) from the PyPI package
  ``HistoricalEarningsData`` (``streamlines.datasets.earnings_dates``): one row per announcement
  with a reported EPS, as Zacks' columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from streamlines.datasets import earnings_dates, shiller_monthly

# Nasdaq Data Link code -> shiller_monthly() column.
MULTPL_SERIES = {
    "MULTPL/SP500_EARNINGS_MONTH": "earnings",
    "MULTPL/SP500_DIV_MONTH": "dividend",
    "MULTPL/SHILLER_PE_RATIO_MONTH": "cape",
    "MULTPL/SP500_REAL_PRICE_MONTH": "sp500",
}
ZACKS_EA = "ZACKS/EA"
ZACKS_EA_COLUMNS = (
    ("ticker", "String"),
    ("per_end_date", "Date"),
    ("per_type", "String"),
    ("act_rpt_date", "Date"),
    ("act_rpt_code", "String"),
    ("eps_mean_est", "BigDecimal(12,4)"),
    ("eps_act", "BigDecimal(12,4)"),
)
# When in the day a company reports, where the data's publisher says so: Google (both share
# classes) reported after the close (the shared data README). Unknown for the others.
AFTER_CLOSE = frozenset({"GOOG", "GOOGL"})


@dataclass(frozen=True)
class MonthlySeries:
    """A dataset's rows in date order: ``YYYY-MM-DD`` dates and their values."""

    dates: tuple[str, ...]
    values: tuple[float, ...]


@cache
def monthly_series(code: str) -> MonthlySeries | None:
    """The MULTPL dataset ``code`` (``DATABASE/DATASET``), or None when there is none."""
    column = MULTPL_SERIES.get(code)
    if column is None:
        return None
    series = shiller_monthly()[column].dropna()
    dates = series.index.strftime("%Y-%m-%d")
    return MonthlySeries(tuple(dates), tuple(series.tolist()))


ZacksRow = tuple[str, None, str, str, str | None, float | None, float]


@lru_cache(maxsize=512)
def zacks_ea_rows(ticker: str) -> tuple[ZacksRow, ...]:
    """``ticker``'s announcements in ``ZACKS_EA_COLUMNS`` order, by date: per_end_date null
    (the source has none), per_type ``Q``, act_rpt_code ``AMC`` where known, the estimate null
    where the source has none; announcements not reported yet are left out. None at all for a
    ticker the source does not have."""
    frame = earnings_dates(ticker)
    frame = frame[frame["reported_eps"].notna()]
    code = "AMC" if ticker in AFTER_CLOSE else None
    columns = zip(
        frame.index.strftime("%Y-%m-%d"),
        frame["eps_estimate"].tolist(),
        frame["reported_eps"].tolist(),
        strict=True,
    )
    return tuple(
        (ticker, None, "Q", day, code, None if math.isnan(estimate) else estimate, actual)
        for day, estimate, actual in columns
    )


def column_specs(names: list[str]) -> list[dict[str, Any]]:
    """The ``columns`` entries of ``names`` (all known ZACKS/EA columns)."""
    types = dict(ZACKS_EA_COLUMNS)
    return [{"name": name, "type": types[name]} for name in names]
