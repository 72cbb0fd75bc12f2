"""Real historical prices that ship inside installed PyPI packages, loaded the same way everywhere.

Sources (all real, all offline):

- ``backtesting`` (``backtesting/test/*.csv``): ``GOOG`` daily 2004-2013, ``EURUSD`` hourly
  (5,000 bars, 2017-2018), ``BTCUSD`` monthly 2012-2025.
- ``arch`` (``arch/data/*``): ``SP500`` and ``NASDAQ`` daily 1999-2018 with adjusted close.

Fundamentals (``shiller_monthly``, ``earnings_dates``):

- ``streamlines/data/sp500_shiller_monthly.csv``: Robert Shiller's monthly S&P 500 series
  1871-2026 (price, dividends, earnings, CPI, rates, CAPE), public domain (ODC-PDDL); copied into
  the tree with its attribution (``streamlines/data/README.md``).
- ``HistoricalEarningsData`` (``HistoricalEarningsData/data/aggregated_earnings_data_with_iv.csv``):
  earnings announcement dates and EPS of 161 tickers; its licence is unstated, so it is read
  from the installed package and never copied.

Every loader returns a DataFrame indexed by a timezone-aware UTC ``DatetimeIndex`` named
``timestamp``, sorted ascending. The bar loaders have float columns ``open, high, low, close,
volume`` and ``adj_close`` where the source has it. Timestamps are the source's own labels read as
UTC: midnight for daily bars and announcement dates, the hour for hourly bars, the last day of the
month for monthly bars and the first day of the month for Shiller's months.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    frequency: str  # "1Hour", "1Day" or "1Month"
    package: str
    description: str


DATASETS: dict[str, DatasetInfo] = {
    "GOOG": DatasetInfo("GOOG", "1Day", "backtesting", "Alphabet (GOOG) daily OHLCV 2004-2013"),
    "SP500": DatasetInfo("SP500", "1Day", "arch", "S&P 500 daily OHLCV, adj close 1999-2018"),
    "NASDAQ": DatasetInfo(
        "NASDAQ", "1Day", "arch", "NASDAQ Composite daily OHLCV + adj close 1999-2018"
    ),
    "EURUSD": DatasetInfo("EURUSD", "1Hour", "backtesting", "EUR/USD hourly OHLCV 2017-2018"),
    "BTCUSD": DatasetInfo("BTCUSD", "1Month", "backtesting", "Bitcoin/USD monthly OHLCV 2012-"),
}


class UnknownDatasetError(KeyError):
    def __str__(self) -> str:
        return f"unknown dataset {self.args[0]!r}; choose one of {', '.join(DATASETS)}"


def dataset_names() -> list[str]:
    return list(DATASETS)


def package_data_path(package: str, *parts: str) -> Path:
    """Where a file inside an installed package lives, without importing the package (slow)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed; pip install {package}")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def _read_backtesting_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(
        package_data_path("backtesting", "test", f"{name}.csv"), index_col=0, parse_dates=True
    )


def _read_arch(name: str) -> pd.DataFrame:
    lower = name.lower()
    raw = pd.read_csv(package_data_path("arch", "data", lower, f"{lower}.csv.gz"))
    raw["Date"] = pd.to_datetime(raw["Date"], format="%m/%d/%Y")
    return raw.set_index("Date")


def _normalise(raw: pd.DataFrame) -> pd.DataFrame:
    renamed = raw.rename(columns=_COLUMNS)
    frame = renamed[[c for c in _COLUMNS.values() if c in renamed.columns]].astype("float64")
    index = pd.DatetimeIndex(frame.index)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    frame.index = index.rename("timestamp")
    return frame.sort_index()


@cache
def _load_cached(name: str) -> pd.DataFrame:
    info = DATASETS[name]
    raw = _read_backtesting_csv(name) if info.package == "backtesting" else _read_arch(name)
    return _normalise(raw)


def load_bars(name: str) -> pd.DataFrame:
    """Load one data set as bars at its own frequency (a fresh copy; callers may mutate it)."""
    key = name.upper()
    if key not in DATASETS:
        raise UnknownDatasetError(name)
    return _load_cached(key).copy()


def load_daily_bars(name: str) -> pd.DataFrame:
    """Load a daily data set (``GOOG``, ``SP500``, ``NASDAQ``)."""
    key = name.upper()
    if key in DATASETS and DATASETS[key].frequency != "1Day":
        raise ValueError(f"{key} is {DATASETS[key].frequency} data, not daily")
    return load_bars(key)


SHILLER_CSV = Path(__file__).parent / "data" / "sp500_shiller_monthly.csv"
_SHILLER_COLUMNS = {
    "SP500": "sp500",
    "Dividend": "dividend",
    "Earnings": "earnings",
    "Consumer Price Index": "cpi",
    "Long Interest Rate": "long_rate",
    "Real Price": "real_price",
    "Real Dividend": "real_dividend",
    "Real Earnings": "real_earnings",
    "PE10": "cape",
}


@cache
def _shiller_cached() -> pd.DataFrame:
    # round_trip: the exact floats of the text (pandas' fast parser can be one ulp off).
    raw = pd.read_csv(SHILLER_CSV, parse_dates=["Date"], float_precision="round_trip")
    raw = raw.set_index("Date")
    frame = raw.rename(columns=_SHILLER_COLUMNS)[list(_SHILLER_COLUMNS.values())]
    # The file writes 0.0 where a value is missing (none of these can really be 0): earnings and
    # dividends after 2023-06, CPI, the rate and the real price after 2023-09, CAPE for 1871-1880
    # (it needs ten years of earnings) and after 2023-09.
    frame = frame.astype("float64").mask(frame == 0.0)
    frame.index = pd.DatetimeIndex(frame.index).tz_localize("UTC").rename("timestamp")
    return frame.sort_index()


def shiller_monthly() -> pd.DataFrame:
    """Robert Shiller's monthly S&P 500 series, 1871-01 to 2026-06 (a fresh copy).

    From ``streamlines/data/sp500_shiller_monthly.csv`` (Shiller's "Irrational Exuberance" data,
    Yale University, as published in the ``datasets/s-and-p-500`` data package; public domain,
    attribution in ``streamlines/data/README.md``). Indexed by each month's first day (UTC).
    Columns: ``sp500`` (monthly average of daily closes), ``dividend`` and ``earnings``
    (trailing twelve-month totals per index share, interpolated to months), ``cpi``,
    ``long_rate`` (10-year Treasury, %), ``real_price``, ``real_dividend``, ``real_earnings``
    and ``cape`` (PE10). The file's 0.0 placeholders are NaN here: earnings and dividends (real
    ones too) after 2023-06, CAPE for 1871-1880, and ``cpi``, ``long_rate``, ``real_price`` and
    ``cape`` after 2023-09.
    """
    return _shiller_cached().copy()


EARNINGS_PACKAGE = "HistoricalEarningsData"
_EARNINGS_CSV = ("data", "aggregated_earnings_data_with_iv.csv")
# The file lists Alphabet under GOOGL only. GOOG and GOOGL are share classes of the same company
# with the same announcements, and the project's GOOG daily series (backtesting's, 2004-2013)
# starts before the 2014 class split, when the one ticker was GOOG.
_EARNINGS_TICKERS = {"GOOG": "GOOGL"}
_EARNINGS_COLUMNS = {
    "eps_estimate": "eps_estimate",
    "reported_eps": "reported_eps",
    "surprise": "surprise_pct",
}


@cache
def _earnings_cached() -> pd.DataFrame:
    return pd.read_csv(
        package_data_path(EARNINGS_PACKAGE, *_EARNINGS_CSV),
        usecols=["symbol", "earnings_date", *_EARNINGS_COLUMNS],
        na_values=["-"],
        keep_default_na=False,
        dtype={name: "float64" for name in _EARNINGS_COLUMNS},
        float_precision="round_trip",
    )


def earnings_dates(symbol: str) -> pd.DataFrame:
    """Earnings announcement dates of ``symbol`` with their EPS (a fresh copy).

    From the installed PyPI package ``HistoricalEarningsData`` (its licence is unstated, so its
    data is read in place, never copied). Indexed by the announcement date at UTC midnight;
    columns ``eps_estimate``, ``reported_eps`` and ``surprise_pct`` (NaN where the source has
    none, e.g. announcements still to come). The EPS figures are adjusted for splits made after
    the announcement (GOOG's 2004-2013 ones are 1/40 of the EPS reported then, against the
    prices of that time): use the dates, not the EPS levels against historical prices. GOOG is
    read as GOOGL, the only Alphabet ticker the file has. An unknown symbol gives an empty frame.
    """
    ticker = _EARNINGS_TICKERS.get(symbol.upper(), symbol.upper())
    raw = _earnings_cached()
    rows = raw[raw["symbol"] == ticker]
    frame = rows[list(_EARNINGS_COLUMNS)].rename(columns=_EARNINGS_COLUMNS)
    dates = pd.to_datetime(rows["earnings_date"], format="%Y-%m-%d")
    frame.index = pd.DatetimeIndex(dates).tz_localize("UTC").rename("timestamp")
    return frame.sort_index()
