"""streamlines.datasets: the fundamentals loaders, checked against a plain read of their files."""

from __future__ import annotations

import csv
import math

import pandas as pd

from streamlines.datasets import (
    SHILLER_CSV,
    earnings_dates,
    load_daily_bars,
    package_data_path,
    shiller_monthly,
)

_SHILLER_NAMES = {
    "SP500": "sp500", "Dividend": "dividend", "Earnings": "earnings",
    "Consumer Price Index": "cpi", "Long Interest Rate": "long_rate", "Real Price": "real_price",
    "Real Dividend": "real_dividend", "Real Earnings": "real_earnings", "PE10": "cape",
}  # fmt: skip


def _shiller_rows() -> list[dict[str, str]]:
    with SHILLER_CSV.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_shiller_is_utc_monthly_and_sorted():
    frame = shiller_monthly()
    assert str(frame.index.tz) == "UTC"
    assert frame.index.name == "timestamp"
    assert frame.index.is_monotonic_increasing
    assert list(frame.columns) == list(_SHILLER_NAMES.values())
    assert frame.index[0] == pd.Timestamp("1871-01-01", tz="UTC")
    assert frame.index[-1] == pd.Timestamp("2026-06-01", tz="UTC")
    assert (frame.index.day == 1).all()


def test_shiller_values_are_the_files_with_zero_placeholders_as_nan():
    rows = _shiller_rows()
    frame = shiller_monthly()
    assert len(frame) == len(rows)
    for row in rows:
        loaded = frame.loc[pd.Timestamp(row["Date"], tz="UTC")]
        for source, name in _SHILLER_NAMES.items():
            value = float(row[source])
            if value == 0.0:
                assert math.isnan(loaded[name]), (row["Date"], name)
            else:
                assert loaded[name] == value, (row["Date"], name)


def test_shiller_documented_quirks_are_missing():
    frame = shiller_monthly()
    assert frame.loc["1871":"1880", "cape"].isna().all()
    assert frame.loc["1881-01":, "cape"].notna().iloc[0]
    assert frame.loc["2023-07":, ["earnings", "dividend"]].isna().all().all()
    assert frame.loc[:"2023-06", ["earnings", "dividend"]].notna().all().all()
    assert frame["sp500"].notna().all()


def test_shiller_covers_the_arch_sp500_years():
    months = shiller_monthly().loc["1999":"2018", ["earnings", "dividend"]]
    assert len(months) == 240
    assert months.notna().all().all()
    daily = load_daily_bars("SP500")
    assert daily.index[0].year == 1999
    assert daily.index[-1].year == 2018


def test_shiller_returns_a_fresh_copy():
    shiller_monthly()["sp500"] = 0.0
    assert (shiller_monthly()["sp500"] > 0).all()


def _earnings_rows(ticker: str) -> list[dict[str, str]]:
    path = package_data_path(
        "HistoricalEarningsData", "data", "aggregated_earnings_data_with_iv.csv"
    )
    with path.open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["symbol"] == ticker]


def _number(text: str) -> float:
    return math.nan if text == "-" else float(text)


def test_earnings_dates_are_the_files_rows_at_utc_midnight():
    rows = _earnings_rows("AAPL")
    frame = earnings_dates("AAPL")
    assert len(rows) > 0
    assert len(frame) == len(rows)
    assert str(frame.index.tz) == "UTC"
    assert frame.index.is_monotonic_increasing
    assert list(frame.columns) == ["eps_estimate", "reported_eps", "surprise_pct"]
    for row in rows:
        loaded = frame.loc[pd.Timestamp(row["earnings_date"], tz="UTC")]
        for source, name in (("eps_estimate", "eps_estimate"), ("reported_eps", "reported_eps"),
                             ("surprise", "surprise_pct")):  # fmt: skip
            expected = _number(row[source])
            assert loaded[name] == expected or (math.isnan(expected) and math.isnan(loaded[name]))


def test_goog_reads_googl_and_has_34_announcements_inside_the_daily_series():
    goog = earnings_dates("GOOG")
    assert goog.equals(earnings_dates("GOOGL"))
    assert len(goog) == len(_earnings_rows("GOOGL"))
    bars = load_daily_bars("GOOG")  # 2004-08-19 .. 2013-03-01
    inside = goog.loc[bars.index[0] : bars.index[-1]]
    assert len(inside) == 34
    assert (inside.index[0], inside.index[-1]) == (
        pd.Timestamp("2004-10-21", tz="UTC"),
        pd.Timestamp("2013-01-22", tz="UTC"),
    )
    assert inside.index.isin(bars.index).all()  # every one a trading day of the series


def test_unknown_symbol_has_no_announcements():
    assert earnings_dates("NO-SUCH-TICKER").empty
