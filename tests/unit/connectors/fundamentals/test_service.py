"""The fundamentals gather's checks and bookkeeping with the stores faked: what passes
``fundamental_problem`` is written to both, what does not goes to the dead-letter topic with
its reason; a failed step of a symbol is reported while its other steps are written."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import pytest

from connectors.fundamentals.mapping import Candidate
from connectors.fundamentals.service import (
    Report,
    SymbolsRequest,
    Target,
    Writer,
    _gather_symbol,
    raise_problems,
    summary,
)
from connectors.gather.client import SymbolFailed
from connectors.sinks.kafka import KafkaSink
from streamlines.errors import UserError

T_NS = 1_327_017_600_000_000_000  # 2012-01-20


class Producer:
    """confluent-kafka's Producer as KafkaSink uses it, acknowledging each record at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    def produce(
        self, topic: str, value: bytes, key: bytes | None = None, on_delivery: Any = None
    ) -> None:
        self.sent.append((topic, key, value))
        on_delivery(None, None)

    def poll(self, timeout: float = -1) -> int:
        time.sleep(min(timeout, 0.01))
        return 0

    def flush(self, timeout: float = -1) -> int:
        return 0

    def close(self) -> None:
        pass


class Influx:
    def __init__(self) -> None:
        self.points: list[Any] = []
        self.points_written = 0

    def write(self, points: list[Any]) -> int:
        self.points += points
        self.points_written += len(points)
        return len(points)


@pytest.fixture
def producer() -> Producer:
    return Producer()


@pytest.fixture
def writer(producer: Producer) -> Writer:
    sink = KafkaSink("unused:9", producer=producer)
    return Writer(Influx(), sink, "market.fundamentals", Report())  # type: ignore[arg-type]


def record(**changes: Any) -> dict[str, Any]:
    return {"symbol": "GOOG", "t_ns": T_NS, "fact": "dividend", "value": 0.5,
            "source": "file"} | changes  # fmt: skip


def test_valid_records_go_to_both_stores_and_the_rest_to_the_dead_letter_topic(writer, producer):
    candidates = [
        Candidate("row 1", {"r": 1}, record()),
        Candidate("row 2", {"r": 2}, record(value=-1.0)),
        Candidate("row 3", {"r": 3}, None, "invalid fundamental: date: 'x' is not YYYY-MM-DD"),
        Candidate("row 4", {"r": 4}, record(t_ns=writer.now_ns + 10**12)),
        Candidate("row 5", {"r": 5}, record(fact="earnings_announcement", value=9.5)),
    ]
    assert writer.take(candidates, "file f.csv") == 2
    writer.finish()
    report = writer.report
    assert report.written == {("GOOG", "dividend"): 1, ("GOOG", "earnings_announcement"): 1}
    assert [where for where, _ in report.rejected] == ["row 2", "row 3", "row 4"]
    assert "value of dividend must not be negative" in report.rejected[0][1]
    assert "is after now" in report.rejected[2][1]
    assert (report.points, report.records, report.dead_lettered) == (2, 2, 3)

    on_topic = [(t, k, json.loads(v)) for t, k, v in producer.sent]
    records = [(k, v) for t, k, v in on_topic if t == "market.fundamentals"]
    assert [k for k, _ in records] == [b"GOOG", b"GOOG"]
    assert [v["fact"] for _, v in records] == ["dividend", "earnings_announcement"]
    dead = [v for t, _, v in on_topic if t == "market.fundamentals.dlq"]
    assert [d["raw"] for d in dead] == [{"r": 2}, {"r": 3}, {"r": 4}]
    assert dead[1]["reason"] == "invalid fundamental: date: 'x' is not YYYY-MM-DD"
    assert all(d["source"] == "file f.csv" for d in dead)


class Fetcher:
    """ZACKS/EA fails; the corporate actions have one split."""

    def steps(self, symbol: str) -> list[str]:
        return ["ZACKS/EA", "corporate actions"]

    def fetch(self, step: str, symbol: str, request: SymbolsRequest) -> list[Candidate]:
        if step == "ZACKS/EA":
            raise SymbolFailed("HTTP 500 (busy) after 8 retries")
        return [Candidate("split", {}, record(fact="split", value=2.0, source="alpaca"))]

    def source_name(self, step: str) -> str:
        return "x"


class Shown:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def advance(self, symbol: str, count: int) -> None:
        self.events.append(("advance", symbol, count))

    def finish(self, symbol: str, note: str, failed: bool = False) -> None:
        self.events.append(("finish", symbol, note, failed))


def test_a_failed_step_is_reported_and_the_symbols_other_steps_are_written(writer):
    shown = Shown()
    request = SymbolsRequest(["GOOG"], date(2012, 1, 1), date(2012, 12, 31))
    _gather_symbol(Fetcher(), writer, "GOOG", request, shown)  # type: ignore[arg-type]
    assert writer.report.failed == {"GOOG": "ZACKS/EA: HTTP 500 (busy) after 8 retries"}
    assert writer.report.written == {("GOOG", "split"): 1}
    assert shown.events == [("advance", "GOOG", 0), ("advance", "GOOG", 1),
                            ("finish", "GOOG", "failed", True)]  # fmt: skip
    with pytest.raises(UserError, match=r"1 symbol failed .*\n  GOOG: ZACKS/EA: HTTP 500"):
        raise_problems(writer.report)


def test_the_summary_counts_per_symbol_and_fact_and_lists_the_rejected():
    report = Report()
    report.written.update({("SP500", "earnings_ttm"): 240, ("GOOG", "split"): 1})
    report.rejected.append(("row 3", "invalid fundamental: value: Field required"))
    report.empty.append("NOPE")
    lines = summary(report, Target("market", "market.fundamentals"))
    assert lines[0].split() == ["GOOG", "split", "1"]
    assert lines[1].split() == ["SP500", "earnings_ttm", "240"]
    assert lines[2] == (
        "wrote 241 fundamentals into InfluxDB bucket market and Kafka topic market.fundamentals"
    )
    assert lines[3] == "found nothing for NOPE (an unknown symbol, or nothing in that range)"
    assert lines[4] == "rejected 1 (sent to market.fundamentals.dlq):"
    assert lines[5] == "  row 3: invalid fundamental: value: Field required"
    raise_problems(report)  # rejected provider records are reported, not a failure
    with pytest.raises(UserError, match="1 of 242 rows were rejected"):
        raise_problems(report, rows=True)
