"""The gather client over a faked HTTP boundary (``requests.Session.send``): alpaca-py's own
request building, pagination and error handling run for real; the answers are scripted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import SecretStr

from connectors.gather.client import (
    Backoff,
    BarClient,
    Source,
    SourceUnavailable,
    SymbolFailed,
    merge,
    source,
)
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.settings import Settings

START = datetime(2018, 7, 2, tzinfo=UTC)
END = datetime(2018, 7, 6, tzinfo=UTC)


def _row(day: int, close: float = 11.0, **changes: Any) -> dict[str, Any]:
    row = {"t": f"2018-07-{day:02d}T00:00:00Z", "o": 10.0, "h": 12.0, "l": 9.0, "c": close,
           "v": 1000, "n": 50, "vw": 10.5}  # fmt: skip
    return row | changes


class FakeAlpaca:
    """Scripted answers, in order; records every request it gets."""

    def __init__(self, answers: list[tuple[int, Any, dict[str, str]]]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kw: Any) -> Any:
        if not self.answers:
            raise AssertionError(f"unexpected request {request.url}")
        url = urlsplit(request.url or "")
        self.requests.append(
            {"path": url.path, "query": parse_qs(url.query), "timeout": kw.get("timeout")}
        )
        status, body, headers = self.answers.pop(0)
        if isinstance(body, Exception):
            raise body
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers.update(headers)
        response.url = request.url or ""
        response.request = request
        return response


def page(rows: list[dict[str, Any]], token: str | None = None, symbol: str = "SP500") -> Any:
    return (200, {"bars": {symbol: rows}, "next_page_token": token}, {})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeAlpaca:
    alpaca = FakeAlpaca([])
    monkeypatch.setattr(
        requests.Session, "send", lambda _session, req, **kw: alpaca.send(req, **kw)
    )
    return alpaca


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def client(slept: list[float]) -> BarClient:
    source = Source(live=False, url="http://replay.test", key="k", secret="s")
    return BarClient(source, Backoff(max_retries=3, initial=1.0, maximum=30.0), timeout=7.0,
                     sleep=slept.append)  # fmt: skip


def test_raw_and_adjusted_rows_become_history_bars(fake, client):
    fake.answers = [
        page([_row(2), _row(3, close=11.5)]),
        page([_row(2, o=5.0, h=6.0, l=4.5, c=5.5, v=2000), _row(3, close=11.5)]),
    ]
    fetched = client.fetch("SP500", BarTimeframe.DAY_1, START, END)
    assert fetched.rejected == []
    first, second = fetched.bars
    assert (first.open, first.close, first.volume, first.trade_count, first.vwap) == (
        10.0, 11.0, 1000.0, 50, 10.5,
    )  # fmt: skip
    assert (first.adj_open, first.adj_close, first.adj_volume) == (5.0, 5.5, 2000.0)
    assert first.adj_factor == 0.5
    assert second.adj_factor == 1.0
    assert first.t_ns == 1_530_489_600_000_000_000
    assert first.timeframe == "1Day"
    assert first.dividend is None
    assert first.split_factor is None
    raw, adjusted = fake.requests
    assert raw["path"] == adjusted["path"] == "/v2/stocks/bars"
    assert raw["query"]["adjustment"] == ["raw"]
    assert adjusted["query"]["adjustment"] == ["all"]
    assert raw["query"]["timeframe"] == ["1Day"]
    assert raw["timeout"] == 7.0


def test_crypto_uses_the_crypto_api_once_and_adjusted_equals_raw(fake, client):
    fake.answers = [page([_row(2)], symbol="BTC/USD")]
    (bar,) = client.fetch("BTC/USD", BarTimeframe.HOUR_1, START, END).bars
    assert fake.requests[0]["path"] == "/v1beta3/crypto/us/bars"
    assert "adjustment" not in fake.requests[0]["query"]
    assert (bar.adj_close, bar.adj_factor, bar.timeframe) == (bar.close, 1.0, "1Hour")


def test_a_429_is_retried_after_the_rate_limit_reset(fake, client, slept, monkeypatch):
    monkeypatch.setattr("time.time", lambda: 1_000.0)
    limited = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0",
               "X-RateLimit-Reset": "1012"}  # fmt: skip
    fake.answers = [(429, {"code": 42910000, "message": "rate limit exceeded"}, limited),
                    page([_row(2)])]  # fmt: skip
    assert len(client.rows("SP500", BarTimeframe.DAY_1, START, END, adjusted=False)) == 1
    assert slept == [12.0]
    assert client.retries == 1


def test_retry_after_is_honoured_and_the_wait_is_capped(fake, client, slept):
    fake.answers = [
        (429, {"code": 1, "message": "slow down"}, {"Retry-After": "2"}),
        (503, {"code": 1, "message": "busy"}, {"Retry-After": "600"}),
        page([_row(2)]),
    ]
    client.rows("SP500", BarTimeframe.DAY_1, START, END, adjusted=False)
    assert slept == [2.0, 30.0]


def test_a_429_mid_pagination_retries_that_page_only(fake, client):
    fake.answers = [
        page([_row(2)], token="page-2"),
        (429, {"code": 42910000, "message": "rate limit exceeded"}, {}),
        page([_row(3)]),
    ]
    rows = client.rows("SP500", BarTimeframe.DAY_1, START, END, adjusted=False)
    assert [r["t"][:10] for r in rows] == ["2018-07-02", "2018-07-03"]
    tokens = [r["query"].get("page_token") for r in fake.requests]
    assert tokens == [None, ["page-2"], ["page-2"]]


def test_exponential_backoff_without_server_hints(fake, client, slept):
    busy: tuple[int, Any, dict[str, str]] = (
        500,
        {"code": 50010000, "message": "internal server error"},
        {},
    )
    fake.answers = [busy, busy, busy, page([_row(2)])]
    client.rows("SP500", BarTimeframe.DAY_1, START, END, adjusted=False)
    assert len(slept) == 3
    for attempt, wait in enumerate(slept):
        assert 2**attempt / 2 <= wait <= 2**attempt  # initial 1 s, doubling, jittered


def test_giving_up_after_the_retries_fails_the_symbol(fake, client, slept):
    fake.answers = [(429, {"code": 42910000, "message": "rate limit exceeded"}, {})] * 4
    with pytest.raises(SymbolFailed, match=r"HTTP 429 \(rate limit exceeded\) after 3 retries"):
        client.rows("SP500", BarTimeframe.DAY_1, START, END, adjusted=False)
    assert len(slept) == 3


def test_a_bad_request_fails_the_symbol_without_retrying(fake, client, slept):
    fake.answers = [(400, {"code": 40010001, "message": "invalid symbol: sp 500"}, {})]
    with pytest.raises(SymbolFailed, match="HTTP 400: invalid symbol"):
        client.rows("SP 500", BarTimeframe.DAY_1, START, END, adjusted=False)
    assert slept == []


def test_refused_keys_stop_everything(fake, client):
    fake.answers = [(403, {"code": 40310000, "message": "forbidden"}, {})]
    with pytest.raises(SourceUnavailable, match="refused the request: forbidden") as info:
        client.rows("SP500", BarTimeframe.DAY_1, START, END, adjusted=False)
    assert "--credentials" in info.value.hint


def test_an_unreachable_server_says_how_to_start_it(fake, client):
    fake.answers = [(0, requests.ConnectionError("refused"), {})]
    with pytest.raises(SourceUnavailable, match="cannot reach the replay server") as info:
        client.rows("SP500", BarTimeframe.DAY_1, START, END, adjusted=False)
    assert "streamlines stack up" in info.value.hint


def test_a_timeout_is_retried(fake, client, slept):
    fake.answers = [(0, requests.ReadTimeout("slow"), {}), page([_row(2)])]
    assert len(client.rows("SP500", BarTimeframe.DAY_1, START, END, adjusted=False)) == 1
    assert len(slept) == 1


def test_merge_rejects_what_does_not_fit_and_keeps_the_rest():
    raw = [_row(2), _row(3, l=13.0), _row(5, vw=0.0, n=0, v=0), _row(6)]
    adjusted = [_row(2), _row(3, l=13.0), _row(5, vw=0.0, n=0, v=0)]
    fetched = merge("SP500", "1Day", raw, adjusted)
    assert [b.t_ns for b in fetched.bars] == [1_530_489_600_000_000_000, 1_530_748_800_000_000_000]
    assert fetched.bars[1].vwap is None  # Alpaca's vw 0 for a bar without trades
    reasons = [reason for _, reason in fetched.rejected]
    assert "low <= open, close <= high" in reasons[0]
    assert reasons[1] == "no adjusted bar at 2018-07-06T00:00:00Z"


def test_live_keys_choose_alpaca_and_no_keys_the_replay_server(settings_factory):
    live = source(settings_factory(alpaca_api_key="key", alpaca_secret_key="secret"))
    assert (live.live, live.url, live.key) == (True, None, "key")
    local = source(settings_factory(alpaca_api_key=None, alpaca_secret_key=None, replay_port=9))
    assert (local.live, local.url) == (False, "http://127.0.0.1:9")


@pytest.fixture
def settings_factory():
    def make(**changes: Any) -> Settings:
        for name in ("alpaca_api_key", "alpaca_secret_key"):
            if changes.get(name) is not None:
                changes[name] = SecretStr(changes[name])
        return Settings().model_copy(update=changes)

    return make
