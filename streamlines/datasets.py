"""Real historical prices that ship inside installed PyPI packages, loaded the same way everywhere.

Sources (all real, all offline):

- ``backtesting`` (``backtesting/test/*.csv``): ``GOOG`` daily 2004-2013, ``EURUSD`` hourly
  (5,000 bars, 2017-2018), ``BTCUSD`` monthly 2012-2025.
- ``arch`` (``arch/data/*``): ``SP500`` and ``NASDAQ`` daily 1999-2018 with adjusted close.

Every loader returns a DataFrame indexed by a timezone-aware UTC ``DatetimeIndex`` named
``timestamp``, sorted ascending, with float columns ``open, high, low, close, volume`` and
``adj_close`` where the source has it. Timestamps are the source's own labels read as UTC:
midnight for daily bars, the hour for hourly bars and the last day of the month for monthly bars.
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
