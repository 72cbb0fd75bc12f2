"""The replay server's Nasdaq Data Link (Quandl) API, its pure parts, checked against the source
files read here on their own (the csv module, not ``streamlines.datasets``): the MULTPL series
from Shiller's CSV, ZACKS/EA from HistoricalEarningsData's CSV; filters, order, limit, cursor
pages, and errors in Nasdaq Data Link's shape."""

from __future__ import annotations

import csv
import json
from functools import cache

import pytest

from connectors.replay.fundamentals import NasdaqError, dataset_data, datatable_page
from streamlines.datasets import SHILLER_CSV, package_data_path

COLUMNS = {
    "MULTPL/SP500_EARNINGS_MONTH": "Earnings",
    "MULTPL/SP500_DIV_MONTH": "Dividend",
    "MULTPL/SHILLER_PE_RATIO_MONTH": "PE10",
    "MULTPL/SP500_REAL_PRICE_MONTH": "SP500",
}


@cache
def _shiller(column: str) -> list[list]:
    """The file's (date, value) rows of ``column``; its 0.0 placeholders are missing values."""
    with SHILLER_CSV.open(newline="") as handle:
        return [
            [row["Date"], float(row[column])]
            for row in csv.DictReader(handle)
            if float(row[column]) != 0.0
        ]


@cache
def _googl_announcements() -> list[dict[str, str]]:
    path = package_data_path(
        "HistoricalEarningsData", "data", "aggregated_earnings_data_with_iv.csv"
    )
    with path.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["symbol"] == "GOOGL"]
    return sorted((r for r in rows if r["reported_eps"] != "-"), key=lambda r: r["earnings_date"])


def _error(call, *args) -> NasdaqError:
    with pytest.raises(NasdaqError) as error:
        call(*args)
    return error.value


def test_earnings_for_2018_12_is_shillers():
    body = dataset_data(
        "MULTPL/SP500_EARNINGS_MONTH", {"start_date": "2018-12-01", "end_date": "2018-12-31"}
    )
    assert body["dataset_data"]["data"] == [["2018-12-01", 132.39]]


@pytest.mark.parametrize("code", sorted(COLUMNS))
def test_each_dataset_is_its_whole_column_without_missing_months(code):
    data = dataset_data(code, {"order": "asc"})["dataset_data"]
    expected = _shiller(COLUMNS[code])
    assert data["data"] == expected
    assert (data["start_date"], data["end_date"]) == (expected[0][0], expected[-1][0])
    assert data["column_names"] == ["Date", "Value"]
    assert (data["frequency"], data["order"], data["limit"]) == ("monthly", "asc", None)


def test_earnings_stop_at_2023_06_and_cape_starts_in_1881():
    earnings = dataset_data("MULTPL/SP500_EARNINGS_MONTH", {})["dataset_data"]
    assert earnings["end_date"] == "2023-06-01"
    assert earnings["data"][0][0] == "2023-06-01"  # desc is the default: newest first
    cape = dataset_data("MULTPL/SHILLER_PE_RATIO_MONTH", {"order": "asc", "limit": "1"})
    assert cape["dataset_data"]["data"][0][0] == "1881-01-01"


def test_dates_are_inclusive_limit_counts_in_the_order_asked_and_range_stays_whole():
    params = {"start_date": "2018-10-01", "end_date": "2019-02-01", "limit": "2"}
    desc = dataset_data("MULTPL/SP500_DIV_MONTH", params)["dataset_data"]
    assert [d for d, _ in desc["data"]] == ["2019-02-01", "2019-01-01"]
    asc = dataset_data("MULTPL/SP500_DIV_MONTH", {**params, "order": "asc"})["dataset_data"]
    assert [d for d, _ in asc["data"]] == ["2018-10-01", "2018-11-01"]
    assert asc["limit"] == 2
    assert asc["start_date"] == "1871-01-01"
    assert (
        dataset_data("MULTPL/SP500_DIV_MONTH", {"start_date": "2030-01-01"})["dataset_data"]["data"]
        == []
    )


def test_codes_are_case_insensitive_and_column_index_1_changes_nothing():
    lower = dataset_data("multpl/sp500_earnings_month", {"column_index": "1"})["dataset_data"]
    assert lower["data"] == dataset_data("MULTPL/SP500_EARNINGS_MONTH", {})["dataset_data"]["data"]
    assert lower["column_index"] == 1


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"start_date": "2018-13-01"}, "start_date"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"order": "newest"}, "order"),
        ({"limit": "0"}, "limit"),
        ({"limit": "two"}, "limit"),
        ({"column_index": "2"}, "column_index"),
    ],
)
def test_bad_parameters_are_422_qesx04_naming_the_parameter(params, name):
    error = _error(dataset_data, "MULTPL/SP500_EARNINGS_MONTH", params)
    assert (error.status, error.code) == (422, "QESx04")
    assert error.message.startswith(f"{name} ")


def test_an_unknown_code_is_404_qecx02_in_quandls_shape():
    for call, code in ((dataset_data, "MULTPL/SP500_PE_RATIO_MONTH"), (datatable_page, "ZACKS/FC")):
        error = _error(call, code, {"ticker": "GOOG"})
        assert (error.status, error.code) == (404, "QECx02")
        body = json.loads(bytes(error.response().body))
        assert body == {
            "quandl_error": {
                "code": "QECx02",
                "message": "You have submitted an incorrect Quandl code. Please check your "
                "Quandl codes and try again.",
            }
        }


def test_goog_has_34_announcements_inside_its_daily_series_after_the_close():
    params = {"ticker": "GOOG", "act_rpt_date.gte": "2004-08-19", "act_rpt_date.lte": "2013-03-01"}
    table = datatable_page("ZACKS/EA", params)
    rows = table["datatable"]["data"]
    expected = [
        r for r in _googl_announcements() if "2004-08-19" <= r["earnings_date"] <= "2013-03-01"
    ]
    assert len(rows) == len(expected) == 34
    assert rows == [
        [
            "GOOG",
            None,
            "Q",
            r["earnings_date"],
            "AMC",
            float(r["eps_estimate"]),
            float(r["reported_eps"]),
        ]
        for r in expected
    ]
    assert (rows[0][3], rows[-1][3]) == ("2004-10-21", "2013-01-22")
    assert [c["name"] for c in table["datatable"]["columns"]] == [
        "ticker",
        "per_end_date",
        "per_type",
        "act_rpt_date",
        "act_rpt_code",
        "eps_mean_est",
        "eps_act",
    ]
    assert table["meta"] == {"next_cursor_id": None}


def test_unreported_announcements_are_left_out_and_missing_estimates_are_null():
    every = datatable_page("ZACKS/EA", {"ticker": "goog"})["datatable"]["data"]
    assert len(every) == len(_googl_announcements())
    assert all(row[6] is not None for row in every)
    amat = datatable_page("ZACKS/EA", {"ticker": "AMAT", "act_rpt_date": "2009-02-10"})
    assert amat["datatable"]["data"] == [["AMAT", None, "Q", "2009-02-10", None, None, -0.02]]


def test_several_tickers_by_date_then_ticker_an_unknown_one_has_no_rows():
    params = {
        "ticker": "GOOG,AAPL,NOSUCH",
        "act_rpt_date.gt": "2012-01-01",
        "act_rpt_date.lt": "2013-01-01",
    }
    rows = datatable_page("ZACKS/EA", params)["datatable"]["data"]
    keys = [(r[3], r[0]) for r in rows]
    assert keys == sorted(keys)
    assert {r[0] for r in rows} == {"GOOG", "AAPL"}
    assert all("2012-01-01" < r[3] < "2013-01-01" for r in rows)
    assert datatable_page("ZACKS/EA", {"ticker": "NOSUCH"})["datatable"]["data"] == []


def test_columns_subset_in_the_order_asked():
    table = datatable_page(
        "ZACKS/EA",
        {"ticker": "GOOG", "qopts.columns": "eps_act,act_rpt_date", "act_rpt_date": "2004-10-21"},
    )["datatable"]
    assert table["columns"] == [
        {"name": "eps_act", "type": "BigDecimal(12,4)"},
        {"name": "act_rpt_date", "type": "Date"},
    ]
    assert table["data"] == [[0.02, "2004-10-21"]]


@pytest.mark.parametrize("per_page", [1, 5, 34, 35])
def test_cursor_pages_chain_to_every_row_once(per_page):
    params = {
        "ticker": "GOOG,AAPL",
        "act_rpt_date.lte": "2006-12-31",
        "qopts.per_page": str(per_page),
    }
    everything = datatable_page("ZACKS/EA", {**params, "qopts.per_page": "10000"})
    expected = everything["datatable"]["data"]
    seen: list[list] = []
    while True:
        body = datatable_page("ZACKS/EA", params)
        page = body["datatable"]["data"]
        assert 0 < len(page) <= per_page
        seen += page
        cursor = body["meta"]["next_cursor_id"]
        if cursor is None:
            break
        params["qopts.cursor_id"] = cursor
    assert seen == expected


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({}, "ticker"),
        ({"qopts.per_page": "10001"}, "qopts.per_page"),
        ({"qopts.columns": "ticker,eps"}, "qopts.columns"),
        ({"qopts.cursor_id": "garbage"}, "qopts.cursor_id"),
        ({"act_rpt_date.gte": "2012-1-1"}, "act_rpt_date.gte"),
    ],
)
def test_bad_table_parameters_are_422_qesx04_naming_the_parameter(params, name):
    error = _error(
        datatable_page, "ZACKS/EA", {"ticker": "GOOG", **params} if name != "ticker" else params
    )
    assert (error.status, error.code) == (422, "QESx04")
    assert error.message.startswith(f"{name} ")
