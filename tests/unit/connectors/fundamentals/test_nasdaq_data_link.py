"""The Nasdaq Data Link client over a faked HTTP boundary (``requests.Session.send``): requests,
cursor pagination, the retries on 429/5xx and what each failure means."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import SecretStr

from connectors.fundamentals.nasdaq_data_link import NasdaqDataLink, Provider, provider
from connectors.gather.client import Backoff, SourceUnavailable, SymbolFailed
from streamlines.settings import Settings

START, END = date(2018, 1, 1), date(2018, 12, 31)
COLUMNS = [{"name": "ticker", "type": "String"}, {"name": "act_rpt_date", "type": "Date"},
           {"name": "eps_act", "type": "BigDecimal(12,4)"}]  # fmt: skip


class FakeServer:
    """Scripted answers, in order; records every request."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any, dict[str, str]]] = []
        self.requests: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        url = urlsplit(request.url or "")
        self.requests.append({"path": url.path, "query": parse_qs(url.query),
                              "timeout": kw.get("timeout")})  # fmt: skip
        status, body, headers = self.answers.pop(0)
        if isinstance(body, Exception):
            raise body
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers.update(headers)
        response.url = request.url or ""
        return response


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    fake = FakeServer()
    monkeypatch.setattr(requests.Session, "send", lambda _s, req, **kw: fake.send(req, **kw))
    return fake


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def client(slept: list[float]) -> NasdaqDataLink:
    source = Provider(False, "http://replay.test", "replay")
    return NasdaqDataLink(source, Backoff(max_retries=2, initial=1.0, maximum=30.0), 7.0,
                          sleep=slept.append)  # fmt: skip


def dataset(rows: list[list[Any]]) -> tuple[int, Any, dict[str, str]]:
    return (200, {"dataset_data": {"column_names": ["Date", "Value"], "data": rows}}, {})


def error(status: int, code: str, message: str) -> tuple[int, Any, dict[str, str]]:
    return (status, {"quandl_error": {"code": code, "message": message}}, {})


def test_a_dataset_is_asked_for_by_date_range_oldest_first(server, client):
    server.answers = [dataset([["2018-01-01", 109.88], ["2018-02-01", None]])]
    rows = client.dataset("MULTPL/SP500_EARNINGS_MONTH", START, END)
    assert rows == [("2018-01-01", 109.88), ("2018-02-01", None)]
    (sent,) = server.requests
    assert sent["path"] == "/api/v3/datasets/MULTPL/SP500_EARNINGS_MONTH/data.json"
    assert sent["query"] == {"start_date": ["2018-01-01"], "end_date": ["2018-12-31"],
                             "order": ["asc"], "api_key": ["replay"]}  # fmt: skip
    assert sent["timeout"] == 7.0


def test_a_datatable_follows_the_cursor_to_the_last_page(server, client):
    page = {"datatable": {"data": [["GOOG", "2012-01-19", 9.5]], "columns": COLUMNS}}
    server.answers = [(200, page | {"meta": {"next_cursor_id": "c2"}}, {}),
                      (200, page | {"meta": {"next_cursor_id": None}}, {})]  # fmt: skip
    rows = client.datatable("ZACKS/EA", {"ticker": "GOOG", "act_rpt_date.gte": "2012-01-01"})
    assert rows == [{"ticker": "GOOG", "act_rpt_date": "2012-01-19", "eps_act": 9.5}] * 2
    first, second = server.requests
    assert first["path"] == "/api/v3/datatables/ZACKS/EA.json"
    assert first["query"]["ticker"] == ["GOOG"]
    assert first["query"]["qopts.per_page"] == ["10000"]
    assert "qopts.cursor_id" not in first["query"]
    assert second["query"]["qopts.cursor_id"] == ["c2"]


def test_429_and_5xx_are_retried_with_the_servers_wait(server, client, slept):
    server.answers = [(429, {}, {"Retry-After": "3"}), error(503, "QEMx01", "busy"),
                      dataset([["2018-01-01", 1.0]])]  # fmt: skip
    assert client.dataset("MULTPL/SP500_DIV_MONTH", START, END) == [("2018-01-01", 1.0)]
    assert slept[0] == 3.0
    assert 0.5 <= slept[1] <= 2.0  # exponential from 1 s, jittered
    assert client.retries == 2


def test_a_timeout_is_retried_and_then_given_up(server, client, slept):
    server.answers = [(0, requests.ReadTimeout("slow"), {})] * 3
    with pytest.raises(SymbolFailed, match="did not answer within 7 s, 3 times"):
        client.dataset("MULTPL/SP500_DIV_MONTH", START, END)
    assert len(slept) == 2


def test_giving_up_names_the_status_and_the_apis_message(server, client, slept):
    server.answers = [error(500, "QEMx02", "internal error")] * 3
    with pytest.raises(SymbolFailed, match=r"HTTP 500 \(QEMx02: internal error\) after 2 retries"):
        client.dataset("MULTPL/SP500_DIV_MONTH", START, END)


def test_an_unknown_code_fails_that_symbol_without_retrying(server, client, slept):
    server.answers = [error(404, "QECx02", "You have submitted an incorrect Quandl code.")]
    with pytest.raises(SymbolFailed, match=r"MULTPL/NOPE: HTTP 404 \(QECx02: You have submitted"):
        client.dataset("MULTPL/NOPE", START, END)
    assert slept == []


def test_a_refused_key_stops_everything(server, client):
    server.answers = [error(400, "QEAx01", "We could not recognize your API key.")]
    with pytest.raises(SourceUnavailable, match="refused the key: QEAx01"):
        client.dataset("MULTPL/SP500_DIV_MONTH", START, END)


def test_an_unreachable_server_says_how_to_start_it(server, client):
    server.answers = [(0, requests.ConnectionError("refused"), {})]
    with pytest.raises(SourceUnavailable, match="cannot reach the replay server") as info:
        client.dataset("MULTPL/SP500_DIV_MONTH", START, END)
    assert "streamlines stack up" in str(info.value.hint)


def test_a_key_chooses_nasdaq_data_link_and_no_key_the_replay_server():
    base = Settings().model_copy(update={"replay_port": 9})
    local = provider(base.model_copy(update={"nasdaq_data_link_api_key": None}))
    assert local == Provider(False, "http://127.0.0.1:9", "replay")
    live = provider(base.model_copy(update={"nasdaq_data_link_api_key": SecretStr("k")}))
    assert live == Provider(True, "https://data.nasdaq.com", "k")
    assert live.name == "Nasdaq Data Link"


def test_a_server_without_the_api_stops_everything_and_says_so(server, client):
    server.answers = [(404, {"detail": "Not Found"}, {})]
    with pytest.raises(SourceUnavailable, match="does not serve Nasdaq Data Link's API") as info:
        client.dataset("MULTPL/SP500_DIV_MONTH", START, END)
    assert "restart it" in str(info.value.hint)
