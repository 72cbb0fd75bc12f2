"""The replay server's Nasdaq Data Link (Quandl) API v3 over HTTP: the real values, cursor pages
to the end, errors in Nasdaq Data Link's shape, the rate limit and injected faults."""

from __future__ import annotations

import math
import uuid
from typing import Any

import requests

from streamlines.datasets import earnings_dates, shiller_monthly

EARNINGS = "/api/v3/datasets/MULTPL/SP500_EARNINGS_MONTH/data.json"
ZACKS_EA = "/api/v3/datatables/ZACKS/EA.json"


def _get(replay, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{replay.http}{path}", params=params, timeout=10, allow_redirects=False)


def test_every_multpl_series_is_shillers_month_by_month(replay):
    shiller = shiller_monthly()
    for code, column in {
        "SP500_EARNINGS_MONTH": "earnings",
        "SP500_DIV_MONTH": "dividend",
        "SHILLER_PE_RATIO_MONTH": "cape",
        "SP500_REAL_PRICE_MONTH": "sp500",
    }.items():
        response = _get(replay, f"/api/v3/datasets/MULTPL/{code}/data.json", api_key="k")
        assert response.status_code == 200
        data = response.json()["dataset_data"]
        expected = shiller[column].dropna()
        assert data["data"] == [
            [day.strftime("%Y-%m-%d"), value] for day, value in expected.iloc[::-1].items()
        ]
        assert data["order"] == "desc"


def test_sp500_earnings_for_december_2018(replay):
    response = _get(replay, EARNINGS, api_key="k", start_date="2018-12-01", end_date="2018-12-01")
    data = response.json()["dataset_data"]
    expected = shiller_monthly().loc["2018-12-01", "earnings"]
    assert data["data"] == [["2018-12-01", expected]]
    assert expected == 132.39
    assert (data["start_date"], data["end_date"]) == ("1871-01-01", "2023-06-01")


def test_googs_34_announcements_page_by_page(replay):
    params = {
        "api_key": "k",
        "ticker": "GOOG",
        "act_rpt_date.gte": "2004-08-19",
        "act_rpt_date.lte": "2013-03-01",
        "qopts.per_page": 5,
    }
    rows: list[list] = []
    pages = 0
    while True:
        response = _get(replay, ZACKS_EA, **params)
        assert response.status_code == 200
        body = response.json()
        assert len(body["datatable"]["data"]) <= 5
        rows += body["datatable"]["data"]
        pages += 1
        cursor = body["meta"]["next_cursor_id"]
        if cursor is None:
            break
        params["qopts.cursor_id"] = cursor
    expected = earnings_dates("GOOG").loc["2004-08-19":"2013-03-01"]
    assert pages == 7
    assert len(rows) == len(expected) == 34
    assert [r[3] for r in rows] == list(expected.index.strftime("%Y-%m-%d"))
    assert [r[6] for r in rows] == list(expected["reported_eps"])
    assert [r[5] for r in rows] == list(expected["eps_estimate"])
    assert {(r[0], r[1], r[2], r[4]) for r in rows} == {("GOOG", None, "Q", "AMC")}


def test_estimates_missing_in_the_source_are_null(replay):
    frame = earnings_dates("AMD")
    frame = frame[frame["reported_eps"].notna()]
    body = _get(replay, ZACKS_EA, api_key="k", ticker="AMD").json()
    rows = body["datatable"]["data"]
    assert len(rows) == len(frame)
    missing = [r[3] for r in rows if r[5] is None]
    assert missing == [
        d.strftime("%Y-%m-%d") for d, e in frame["eps_estimate"].items() if math.isnan(e)
    ]
    assert missing  # the source has some
    assert all(r[4] is None for r in rows)  # when AMD reports is not known


def test_errors_are_in_nasdaq_data_links_shape(replay):
    for params in ({}, {"api_key": ""}):
        response = _get(replay, EARNINGS, **params)
        assert response.status_code == 400
        assert response.json() == {
            "quandl_error": {
                "code": "QEAx01",
                "message": "We could not recognize your API key. Please check your API key "
                "and try again.",
            }
        }
    unknown = _get(replay, "/api/v3/datasets/MULTPL/NO_SUCH_SERIES/data.json", api_key="k")
    assert unknown.status_code == 404
    assert unknown.json()["quandl_error"]["code"] == "QECx02"
    bad_date = _get(replay, EARNINGS, api_key="k", start_date="2018-12")
    assert bad_date.status_code == 422
    error = bad_date.json()["quandl_error"]
    assert error["code"] == "QESx04"
    assert error["message"].startswith("start_date '2018-12' is not valid")
    bad_page = _get(replay, ZACKS_EA, api_key="k", ticker="GOOG", **{"qopts.per_page": 0})
    assert bad_page.status_code == 422
    assert "qopts.per_page" in bad_page.json()["quandl_error"]["message"]


def test_rate_limit_per_key_and_injected_faults(replay):
    key = f"ndl-{uuid.uuid4().hex[:8]}"
    replay.call("POST", "/control/config", {"rest_rate_limit": 2})
    statuses = [_get(replay, EARNINGS, api_key=key, limit=1) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[0].headers["X-RateLimit-Remaining"] == "1"
    limited = statuses[-1]
    assert limited.json()["quandl_error"]["code"] == "QELx04"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) > 0
    # The same text as an Alpaca key is another account: its bars are not limited by this.
    params: dict[str, str | int] = {"symbols": "GOOG", "timeframe": "1Day", "limit": 1}
    bars = requests.get(
        f"{replay.http}/v2/stocks/bars",
        params=params,
        headers={"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": "s"},
        timeout=10,
    )
    assert bars.status_code == 200
    replay.call("POST", "/control/config", {"rest_rate_limit": None})

    replay.call("POST", "/control/faults", {"rest_error_status": 503, "rest_error_count": 1})
    failed = _get(replay, ZACKS_EA, api_key=key, ticker="GOOG")
    assert failed.status_code == 503
    assert failed.json()["quandl_error"]["code"] == "QEMx01"
    assert _get(replay, ZACKS_EA, api_key=key, ticker="GOOG").status_code == 200
