"""The gap filler: after a reconnect, the first live trade or quote ends the gap; the trades in
it are fetched edge to edge and repeats skipped by id, the quotes strictly inside it."""

from __future__ import annotations

from concurrent.futures import Executor, Future
from typing import Any

import msgpack

from connectors.alpaca.stream import Outage
from connectors.ingest.gaps import GapFiller
from connectors.ingest.router import Router, Topics
from streamlines.contracts.events import Trade
from tests.unit.connectors.ingest.test_router import RecordingSink

T0 = 1_325_601_000_000_000_000


def ts(t_ns: int) -> msgpack.Timestamp:
    return msgpack.Timestamp.from_unix_nano(t_ns)


def trade(i: int, t_ns: int) -> dict[str, Any]:
    return {"T": "t", "S": "GOOG", "i": i, "x": "V", "p": 580.0, "s": 10, "t": ts(t_ns)}


def quote(t_ns: int) -> dict[str, Any]:
    return {"T": "q", "S": "GOOG", "bp": 579.0, "bs": 1, "ap": 581.0, "as": 1, "t": ts(t_ns)}


class Inline(Executor):
    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class History:
    """Trades 1..10 at T0 + i and quotes at the same times; records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int, int]] = []

    def fetch(self, kind: str, symbol: str, start_ns: int, end_ns: int) -> list[dict[str, Any]]:
        self.asked.append((kind, start_ns, end_ns))
        make = (lambda i: trade(i, T0 + i)) if kind == "t" else (lambda i: quote(T0 + i))
        return [make(i) for i in range(1, 11) if start_ns <= T0 + i <= end_ns]


def test_the_gap_is_filled_without_a_repeat_or_a_hole():
    sink = RecordingSink()
    router = Router(sink, Topics("tr", "qu", "ba"), "replay")
    history = History()
    gaps = GapFiller(["GOOG"], history, router, Inline())

    def live(message: dict[str, Any]) -> None:
        event = router.route(message)
        assert event is not None
        gaps.saw(event)

    for message in (trade(1, T0 + 1), quote(T0 + 1), trade(2, T0 + 2), quote(T0 + 2)):
        live(message)
    gaps.reconnected(Outage("data", 0, 1.5, None))
    # the stream resumes at T0 + 8: the first live event ends the gap
    for message in (trade(8, T0 + 8), quote(T0 + 8), trade(9, T0 + 9)):
        live(message)

    (report,) = gaps.reports
    assert history.asked == [("t", T0 + 2, T0 + 8), ("q", T0 + 2, T0 + 8)]
    trades = sorted(e.trade_id or 0 for _, e in sink.events if isinstance(e, Trade))
    quotes = sorted(e.t_ns - T0 for _, e in sink.events if e.kind == "quote")
    assert trades == list(range(1, 10))
    assert quotes == list(range(1, 9))
    assert (report.trades, report.quotes, report.duplicates) == (5, 5, 2)
    assert "reconnected in 1.5 s, backfilled 5 trades and 5 quotes" in report.line()
    assert sink.dead == []
