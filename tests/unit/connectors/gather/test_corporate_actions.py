"""Daily bars get their dividends and splits from Alpaca's corporate actions (alpaca-py's
``CorporateActionsClient`` run for real over a faked HTTP boundary); a failure to fetch them
leaves the fields unknown and never fails the gather."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import requests

from connectors.gather.client import Backoff, BarClient, Source, merge
from connectors.gather.corporate_actions import (
    CorporateAction,
    by_day,
    parse_actions,
    with_corporate_actions,
)
from streamlines.contracts.timeframes import BarTimeframe
from tests.unit.connectors.gather.test_client import FakeAlpaca, page

START = datetime(2018, 7, 2, tzinfo=UTC)
END = datetime(2018, 7, 6, tzinfo=UTC)
EMPTY: dict[str, list[Any]] = {"cash_dividends": [], "forward_splits": [], "reverse_splits": []}


def row(day: int, close: float = 11.0) -> dict[str, Any]:
    return {"t": f"2018-07-{day:02d}T00:00:00Z", "o": 10.0, "h": 12.0, "l": 9.0, "c": close,
            "v": 1000, "n": 50, "vw": 10.5}  # fmt: skip


def dividend(day: int, rate: float, symbol: str = "ADJX") -> dict[str, Any]:
    return {"id": f"d{day}", "symbol": symbol, "cusip": "", "rate": rate, "special": False,
            "foreign": False, "process_date": f"2018-07-{day:02d}",
            "ex_date": f"2018-07-{day:02d}", "record_date": None, "payable_date": None}  # fmt: skip


def split(day: int, new: float, old: float, reverse: bool = False) -> dict[str, Any]:
    cusips = {"old_cusip": "", "new_cusip": ""} if reverse else {"cusip": ""}
    return {"id": f"s{day}", "symbol": "ADJX", **cusips, "new_rate": new, "old_rate": old,
            "process_date": f"2018-07-{day:02d}", "ex_date": f"2018-07-{day:02d}",
            "record_date": None, "payable_date": None}  # fmt: skip


def actions_page(token: str | None = None, **groups: list[dict[str, Any]]) -> Any:
    return (200, {"corporate_actions": EMPTY | groups, "next_page_token": token}, {})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeAlpaca:
    alpaca = FakeAlpaca([])
    monkeypatch.setattr(
        requests.Session, "send", lambda _session, req, **kw: alpaca.send(req, **kw)
    )
    return alpaca


@pytest.fixture
def client() -> BarClient:
    source = Source(live=False, url="http://replay.test", key="k", secret="s")
    return BarClient(source, Backoff(max_retries=2), timeout=7.0, sleep=lambda _s: None)


def test_actions_are_read_by_kind_and_a_split_is_new_over_old():
    raw = {"cash_dividends": [dividend(5, 0.25)], "forward_splits": [split(3, 2, 1)],
           "reverse_splits": [split(6, 1, 4, reverse=True)]}  # fmt: skip
    assert parse_actions(raw) == [
        CorporateAction("ADJX", "forward_split", date(2018, 7, 3), 2.0),
        CorporateAction("ADJX", "cash_dividend", date(2018, 7, 5), 0.25),
        CorporateAction("ADJX", "reverse_split", date(2018, 7, 6), 0.25),
    ]
    with pytest.raises(ValueError, match="unreadable cash_dividend"):
        parse_actions({"cash_dividends": [{"symbol": "ADJX", "ex_date": "2018-07-05"}]})


def test_actions_of_one_day_add_up_and_multiply():
    day = date(2018, 7, 5)
    actions = [CorporateAction("X", "cash_dividend", day, 0.25),
               CorporateAction("X", "cash_dividend", day, 0.5),
               CorporateAction("X", "forward_split", day, 2.0),
               CorporateAction("X", "forward_split", day, 3.0)]  # fmt: skip
    assert by_day(actions) == {day: (0.75, 6.0)}


def test_daily_bars_get_the_days_dividend_and_split_and_zero_and_one_otherwise(fake, client):
    fake.answers = [
        page([row(2), row(3), row(5), row(6)], symbol="ADJX"),
        page([row(2), row(3), row(5), row(6)], symbol="ADJX"),
        actions_page("next", cash_dividends=[dividend(5, 0.25)]),
        actions_page(forward_splits=[split(3, 2, 1)]),
    ]
    bars = client.fetch("ADJX", BarTimeframe.DAY_1, START, END).bars
    assert [(b.dividend, b.split_factor) for b in bars] == [
        (0.0, 1.0), (0.0, 2.0), (0.25, 1.0), (0.0, 1.0),
    ]  # fmt: skip
    first, second = fake.requests[2:]
    assert first["path"] == second["path"] == "/v1/corporate-actions"
    assert first["query"]["symbols"] == ["ADJX"]
    assert first["query"]["types"] == ["cash_dividend,forward_split,reverse_split"]
    assert (first["query"]["start"], first["query"]["end"]) == (["2018-07-02"], ["2018-07-06"])
    assert second["query"]["page_token"] == ["next"]


@pytest.mark.parametrize(
    "failure",
    [
        (404, {"message": "not found"}, {}),
        (500, {"message": "busy"}, {}),  # retried twice, then given up
        (200, {"unexpected": []}, {}),
        (200, {"corporate_actions": {"cash_dividends": [{"symbol": "ADJX"}]}}, {}),
    ],
)
def test_a_failure_to_fetch_them_leaves_the_fields_unknown(fake, client, failure, caplog):
    fake.answers = [page([row(2)], symbol="ADJX"), page([row(2)], symbol="ADJX"),
                    *[failure] * (3 if failure[0] == 500 else 1)]  # fmt: skip
    (bar,) = client.fetch("ADJX", BarTimeframe.DAY_1, START, END).bars
    assert (bar.dividend, bar.split_factor) == (None, None)
    assert "ADJX: no corporate actions from the replay server" in caplog.text
    assert fake.answers == []


def test_intraday_and_crypto_bars_ask_for_no_corporate_actions(fake, client):
    fake.answers = [page([row(2)], symbol="ADJX"), page([row(2)], symbol="ADJX"),
                    page([row(2)], symbol="BTC/USD")]  # fmt: skip
    (hourly,) = client.fetch("ADJX", BarTimeframe.HOUR_1, START, END).bars
    (crypto,) = client.fetch("BTC/USD", BarTimeframe.DAY_1, START, END).bars
    assert (hourly.dividend, crypto.dividend, crypto.split_factor) == (None, None, None)
    assert len(fake.requests) == 3


def test_a_bars_day_is_the_utc_date_of_its_start_for_alpaca_and_the_replay_server():
    alpaca = merge(
        "X",
        "1Day",
        [row(5) | {"t": "2018-07-05T04:00:00Z"}],
        [row(5) | {"t": "2018-07-05T04:00:00Z"}],
    ).bars  # midnight New York (EDT)
    replay = merge("X", "1Day", [row(5)], [row(5)]).bars  # 00:00 UTC
    actions = [CorporateAction("X", "cash_dividend", date(2018, 7, 5), 0.5)]
    for bar in with_corporate_actions(alpaca + replay, actions):
        assert (bar.dividend, bar.split_factor) == (0.5, 1.0)
