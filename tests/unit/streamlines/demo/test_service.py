from __future__ import annotations

import io
from typing import cast

import pytest

from streamlines.console import make_console
from streamlines.contracts.topics import (
    TOPIC_BARS,
    TOPIC_CURRENTS,
    TOPIC_QUOTES,
    TOPIC_RIPPLES,
    TOPIC_TRADES,
)
from streamlines.demo.service import (
    LateCounter,
    dashboard_url,
    demo_processes,
    status_display,
    status_line,
)
from streamlines.settings import Settings
from streamlines.stack.http import HttpError
from streamlines.stack.services.flink import FlinkService


def test_the_dashboard_url_opens_a_symbol_the_demo_plays():
    assert dashboard_url(Settings()) == (
        "http://127.0.0.1:8000/dashboard/?symbol=GOOG&timeframe=1Min"
    )
    crypto = Settings(ingest_symbols=(), ingest_crypto=("BTC/USD",), graphql_port=8123)
    assert dashboard_url(crypto) == (
        "http://127.0.0.1:8123/dashboard/?symbol=BTC%2FUSD&timeframe=1Min"
    )


def test_each_analytics_topic_has_its_sink_into_its_measurement():
    settings = Settings(graphql_currents_topic="my.currents")
    processes = dict(demo_processes(settings))
    assert processes["sink-influx"] == (
        "sink", "influx", "--topic", TOPIC_RIPPLES, "--measurement", "ripples",
    )  # fmt: skip
    currents = processes["sink-currents"]
    assert currents[:6] == ("sink", "influx", "--topic", "my.currents", "--measurement", "currents")
    # its own consumer group: one shared with the ripples sink would rebalance both
    assert currents[currents.index("--group-id") + 1] != "analytics-to-influx"


class FakeFlink:
    """Stands in for FlinkService (which asks a running Flink): scripted late-record counts."""

    def __init__(self, answers: list[int | Exception]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def late_records_dropped(self, job_id: str) -> int:
        self.asked.append(job_id)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_the_late_count_is_asked_at_most_every_interval_and_a_failed_ask_shows_unknown():
    flink = FakeFlink([1234, HttpError(503, "busy"), 7])
    late = LateCounter(cast(FlinkService, flink), ["job-1"], every=0)  # a fake: see FakeFlink
    assert [late.text(), late.text(), late.text()] == ["1,234", "?", "7"]
    assert flink.asked == ["job-1"] * 3

    slow = FakeFlink([5])
    late = LateCounter(cast(FlinkService, slow), ["job-2"], every=3600)
    assert [late.text(), late.text()] == ["5", "5"]
    assert slow.asked == ["job-2"]


def test_the_late_count_is_the_sum_over_the_jobs():
    flink = FakeFlink([1000, 234])
    late = LateCounter(cast(FlinkService, flink), ["ripples", "currents"], every=0)
    assert late.text() == "1,234"
    assert flink.asked == ["ripples", "currents"]


def test_the_status_line_is_one_line_when_the_output_is_not_a_terminal(monkeypatch):
    """Piped to a file or `tee` (or captured by a test), the live line is not wrapped at a
    guessed width: it once split as "dropped \\nas late: 0" at 80 columns."""
    monkeypatch.delenv("COLUMNS", raising=False)
    huge = 10**18
    topics = (TOPIC_TRADES, TOPIC_QUOTES, TOPIC_BARS, TOPIC_RIPPLES, TOPIC_CURRENTS)
    totals = dict.fromkeys(topics, huge)
    late = f"{huge:,}"
    out = io.StringIO()
    with status_display(make_console(file=out)) as live:
        live.update(status_line(totals, late, "1 run(s) done"))
    assert out.getvalue().endswith("\n")  # what is printed next starts a line of its own
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1, out.getvalue()
    assert len(lines[0]) > 80  # longer than the 80 columns rich guesses without a terminal
    assert f"dropped as late: {late}" in lines[0]


@pytest.mark.parametrize("columns", [None, "40"])
def test_a_console_that_is_not_a_terminal_does_not_wrap(monkeypatch, columns):
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    out = io.StringIO()
    text = " ".join(f"word{i}" for i in range(100))
    make_console(file=out).print(text)
    assert out.getvalue() == text + "\n"
