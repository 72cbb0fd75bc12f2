"""Alpaca's corporate actions on the replay server: set through the control endpoint or
``--corporate-actions FILE``, read back with alpaca-py's unmodified ``CorporateActionsClient``
(filters, order, page tokens) and plain HTTP (errors)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import requests
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.data.enums import CorporateActionsType
from alpaca.data.historical.corporate_actions import CorporateActionsClient
from alpaca.data.requests import CorporateActionsRequest

from tests.support.replay import started_replay_server

ACTIONS: list[dict[str, Any]] = [
    {
        "symbol": "GOOG",
        "type": "forward_split",
        "ex_date": "2014-04-03",
        "new_rate": 2,
        "old_rate": 1,
        "record_date": "2014-03-27",
        "payable_date": "2014-04-02",
    },
    {"symbol": "GOOG", "type": "cash_dividend", "ex_date": "2012-06-01", "rate": 0.5},
    {
        "symbol": "AAPL",
        "type": "cash_dividend",
        "ex_date": "2012-08-09",
        "rate": 2.65,
        "record_date": "2012-08-13",
        "payable_date": "2012-08-16",
    },
    {
        "symbol": "XYZ",
        "type": "reverse_split",
        "ex_date": "2013-01-02",
        "new_rate": 1,
        "old_rate": 10,
    },
]


def _client(replay, api_key: str) -> CorporateActionsClient:
    return CorporateActionsClient(api_key, "secret", url_override=replay.http)


def _get(replay, api_key: str | None, **params: Any) -> requests.Response:
    headers = {"APCA-API-KEY-ID": api_key, "APCA-API-SECRET-KEY": "s"} if api_key else {}
    return requests.get(
        f"{replay.http}/v1/corporate-actions", params=params, headers=headers, timeout=10
    )


def test_the_real_data_has_none(replay, api_key):
    body = _get(replay, api_key, symbols="GOOG,SP500,NASDAQ").json()
    assert body == {
        "corporate_actions": {"cash_dividends": [], "forward_splits": [], "reverse_splits": []},
        "next_page_token": None,
    }


def test_alpaca_py_reads_the_actions_set_through_the_control_endpoint(replay, api_key):
    assert replay.call("POST", "/control/corporate-actions", ACTIONS)["corporate_actions"]
    client = _client(replay, api_key)

    every = client.get_corporate_actions(CorporateActionsRequest())
    (split,) = every["forward_splits"]
    assert (split.symbol, split.new_rate, split.old_rate) == ("GOOG", 2.0, 1.0)
    assert (split.ex_date, split.record_date, split.payable_date) == (
        date(2014, 4, 3),
        date(2014, 3, 27),
        date(2014, 4, 2),
    )
    (reverse,) = every["reverse_splits"]
    assert (reverse.symbol, reverse.new_rate, reverse.old_rate) == ("XYZ", 1.0, 10.0)
    dividends = every["cash_dividends"]
    assert [(d.symbol, d.rate, d.ex_date) for d in dividends] == [
        ("GOOG", 0.5, date(2012, 6, 1)),
        ("AAPL", 2.65, date(2012, 8, 9)),
    ]

    goog_dividends = client.get_corporate_actions(
        CorporateActionsRequest(
            symbols=["GOOG"],
            types=[CorporateActionsType.CASH_DIVIDEND, CorporateActionsType.SPIN_OFF],
            start=date(2012, 6, 1),
            end=date(2012, 6, 1),
        )
    )
    assert [(d.symbol, d.rate) for d in goog_dividends["cash_dividends"]] == [("GOOG", 0.5)]
    assert goog_dividends["forward_splits"] == []

    newest_first = client.get_corporate_actions(
        CorporateActionsRequest(start=date(2012, 6, 2), sort=Sort.DESC)
    )
    assert [d.symbol for d in newest_first["cash_dividends"]] == ["AAPL"]
    raw = _get(replay, api_key, sort="desc").json()["corporate_actions"]
    order = sorted((row["ex_date"] for rows in raw.values() for row in rows), reverse=True)
    assert order == ["2014-04-03", "2013-01-02", "2012-08-09", "2012-06-01"]


def test_alpaca_py_follows_page_tokens_to_the_end(replay, api_key):
    many: list[dict[str, Any]] = [
        {
            "symbol": f"S{i:04}",
            "type": "cash_dividend",
            "ex_date": f"20{10 + i % 10}-03-01",
            "rate": 0.01 * (1 + i),
        }
        for i in range(2_500)
    ]
    replay.call("POST", "/control/corporate-actions", many)
    first = _get(replay, api_key, limit=1000).json()
    assert len(first["corporate_actions"]["cash_dividends"]) == 1000
    assert first["next_page_token"] is not None

    got = _client(replay, api_key).get_corporate_actions(CorporateActionsRequest(limit=None))
    rates = sorted(round(d.rate, 2) for d in got["cash_dividends"])
    assert rates == sorted(round(row["rate"], 2) for row in many)
    assert len({d.id for d in got["cash_dividends"]}) == 2_500
    ex_dates = [d.ex_date for d in got["cash_dividends"]]
    assert ex_dates == sorted(ex_dates)


def test_control_replaces_refuses_bad_rows_whole_and_clears(replay, api_key):
    replay.call("POST", "/control/corporate-actions", ACTIONS[:1])
    bad = requests.post(
        f"{replay.http}/control/corporate-actions",
        json=[ACTIONS[1], {**ACTIONS[2], "ex_date": "9 Aug 2012"}],
        timeout=10,
    )
    assert bad.status_code == 400
    assert bad.json()["message"] == (
        "nothing changed: row 2: ex_date '9 Aug 2012' is not a date: use YYYY-MM-DD"
    )
    shown = replay.call("GET", "/control/corporate-actions")["corporate_actions"]
    assert [(a["symbol"], a["type"]) for a in shown] == [("GOOG", "forward_split")]
    not_a_list = requests.post(
        f"{replay.http}/control/corporate-actions", json=ACTIONS[0], timeout=10
    )
    assert not_a_list.status_code == 400

    replay.call("POST", "/control/corporate-actions", ACTIONS[1:2])
    body = _get(replay, api_key).json()["corporate_actions"]
    assert [len(body[k]) for k in ("cash_dividends", "forward_splits")] == [1, 0]
    assert replay.call("DELETE", "/control/corporate-actions") == {"corporate_actions": []}
    assert _get(replay, api_key).json()["corporate_actions"]["cash_dividends"] == []


def test_errors_auth_and_injected_faults(replay, api_key):
    assert _get(replay, None).status_code == 401
    bad_type = _get(replay, api_key, types="dividend")
    assert bad_type.status_code == 400
    assert "invalid types: dividend" in bad_type.json()["message"]
    assert _get(replay, api_key, limit=5000).status_code == 422
    assert _get(replay, api_key, start="2012/01/01").status_code == 400

    replay.call("POST", "/control/faults", {"rest_error_status": 500, "rest_error_count": 1})
    with pytest.raises(APIError, match="injected"):
        _client(replay, api_key).get_corporate_actions(CorporateActionsRequest())


def test_a_server_started_with_a_corporate_actions_file_serves_it(tmp_path, api_key):
    path = tmp_path / "actions.csv"
    path.write_text(
        "symbol,type,ex_date,rate,new_rate,old_rate,record_date,payable_date\n"
        "GOOG,forward_split,2014-04-03,,2,1,2014-03-27,2014-04-02\n"
        "GOOG,cash_dividend,2012-06-01,0.5,,,,\n"
    )
    with started_replay_server(
        tmp_path, "--symbols", "GOOG", "--corporate-actions", str(path)
    ) as server:
        got = _client(server, api_key).get_corporate_actions(
            CorporateActionsRequest(symbols=["GOOG"])
        )
    assert [(d.rate, d.ex_date) for d in got["cash_dividends"]] == [(0.5, date(2012, 6, 1))]
    assert [(s.new_rate, s.old_rate) for s in got["forward_splits"]] == [(2.0, 1.0)]
