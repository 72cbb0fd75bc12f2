"""Ingest's router: valid messages to their topic, invalid ones to the topic's DLQ."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import msgpack
import pytest

from connectors.ingest.router import Router, Topics
from streamlines.contracts.events import Event, Trade


class RecordingSink:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.events: list[tuple[str, Event]] = []
        self.dead: list[tuple[str, str, Any, str]] = []

    def send(self, topic: str, event: Event) -> None:
        if self.fail:
            raise RuntimeError("kafka is down")
        self.events.append((topic, event))

    def dead_letter(self, topic: str, reason: str, raw: Any, source: str) -> None:
        self.dead.append((topic, reason, raw, source))

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


TOPICS = Topics("tr", "qu", "ba")
T = msgpack.Timestamp.from_unix_nano(1_325_601_000_000_000_001)


def test_routes_by_kind_and_rejects_to_the_dlq():
    sink = RecordingSink()
    router = Router(sink, TOPICS, "replay")
    router.route({"T": "t", "S": "GOOG", "p": 1.0, "s": 1, "t": T})
    router.route({"T": "q", "S": "GOOG", "bp": 1.0, "bs": 1, "ap": 1.1, "as": 1, "t": T})
    router.route({"T": "b", "S": "GOOG", "o": 1, "h": 1, "l": 1, "c": 1, "v": 1, "t": T})
    router.route({"T": "q", "S": "GOOG", "bp": 1.0, "t": T})
    router.route({"T": "?"})
    assert [(topic, e.kind, e.t_ns) for topic, e in sink.events] == [
        ("tr", "trade", 1_325_601_000_000_000_001),
        ("qu", "quote", 1_325_601_000_000_000_001),
        ("ba", "bar", 1_325_601_000_000_000_001),
    ]
    assert [(d[0], d[3]) for d in sink.dead] == [("qu", "replay"), ("tr", "replay")]
    assert "bid_size" in sink.dead[0][1] or "ask" in sink.dead[0][1]
    assert router.counts == {"trade": 1, "quote": 1, "bar": 1, "rejected": 2}


def test_malformed_frames_go_to_the_trades_dlq():
    sink = RecordingSink()
    router = Router(sink, TOPICS, "replay")
    router.on_malformed(b"\xc1", "frame is not valid msgpack")
    assert sink.dead == [("tr", "frame is not valid msgpack", b"\xc1", "replay")]


def test_a_sink_failure_stops_ingest_instead_of_dropping_messages():
    router = Router(RecordingSink(fail=True), TOPICS, "replay")
    asyncio.run(router.on_message({"T": "t", "S": "GOOG", "p": 1.0, "s": 1, "t": T}))
    assert router.failed.is_set()
    assert "kafka is down" in str(router.error)


GOOD = {"T": "t", "S": "GOOG", "i": 7, "x": "V", "p": 580.5, "s": 100, "t": T}
QUOTE = {"T": "q", "S": "GOOG", "bp": 580.0, "bs": 100, "ap": 580.5, "as": 200, "t": T}
FAR_FUTURE = msgpack.Timestamp.from_unix_nano(7_258_118_400 * 10**9)
YEAR_BEFORE = msgpack.Timestamp.from_unix_nano(T.to_unix_nano() - 365 * 86_400 * 10**9)


@pytest.mark.parametrize(
    ("hostile", "topic", "reason"),
    [
        ({**GOOD, "p": "580.5"}, "tr", "price: Input should be a valid number"),
        ({**GOOD, "s": True}, "tr", "size: Input should be a valid number"),
        ({**GOOD, "p": math.nan}, "tr", "price: Input should be a finite number"),
        ({**GOOD, "s": math.inf}, "tr", "size: Input should be a finite number"),
        ({**GOOD, "s": -100}, "tr", "size: Input should be greater than 0"),
        ({**GOOD, "s": 0}, "tr", "size: Input should be greater than 0"),
        ({**GOOD, "i": 1.5}, "tr", "trade_id: Input should be a valid integer"),
        ({**GOOD, "S": "X" * 10_000}, "tr", "symbol: String should have at most 32"),
        ({**QUOTE, "bp": 581.0}, "qu", "crossed quote: bid 581.0 is above ask 580.5"),
        ({**GOOD, "t": FAR_FUTURE}, "tr", "ahead of the wall clock"),
        ({**GOOD, "i": 8, "t": YEAR_BEFORE}, "tr", "3600 s behind the newest trade of GOOG"),
        (dict(GOOD), "tr", "duplicate trade: id 7 of GOOG (exchange V) was already ingested"),
        ({k: v for k, v in GOOD.items() if k != "p"}, "tr", "price: Field required"),
        ({**GOOD, "t": "yesterday"}, "tr", "t: not an RFC 3339 timestamp"),
        ({**GOOD, "t": "2012-13-45T00:00:00Z"}, "tr", "t: not a valid time"),
        ({**GOOD, "T": 42}, "tr", "T: not a trade, quote or bar message (42)"),
        ({**GOOD, "T": ["t"]}, "tr", "T: not a trade, quote or bar message"),
        ("not an object", "tr", "message: not an object (str)"),
    ],
)
def test_each_kind_of_hostile_message_lands_in_the_dlq_with_its_reason(hostile, topic, reason):
    sink = RecordingSink()
    router = Router(sink, TOPICS, "replay")
    assert router.route(GOOD) is not None  # the symbol's newest time, and trade id 7
    assert router.route(hostile) is None
    ((dlq_topic, why, raw, _),) = sink.dead
    assert (dlq_topic, raw) == (topic, hostile)
    assert reason in why
    assert router.route({**GOOD, "i": 9}) is not None, "the next good message goes through"
    assert router.counts["trade"] == 2


def test_a_backfilled_trade_the_stream_sent_is_skipped_not_dead_lettered():
    sink = RecordingSink()
    router = Router(sink, TOPICS, "replay")
    router.route(GOOD)
    assert router.route_backfilled(dict(GOOD)) == "duplicate"
    old = {**GOOD, "i": 3, "t": YEAR_BEFORE}  # backfills are old on purpose: no time check
    assert router.route_backfilled(old) == "sent"
    assert router.route_backfilled({**GOOD, "i": 4, "p": math.nan}) == "rejected"
    assert [e.trade_id for _, e in sink.events if isinstance(e, Trade)] == [7, 3]
    assert len(sink.dead) == 1


def test_undeliverable_messages_are_dead_lettered_with_a_reason():
    sink = RecordingSink()
    router = Router(sink, TOPICS, "replay")
    router.on_undeliverable({**GOOD, "S": "MSFT"})
    router.on_undeliverable({**GOOD, "S": "X" * 100})
    reasons = [d[1] for d in sink.dead]
    assert reasons[0] == "S: MSFT is not subscribed on this stream"
    assert "symbol: String should have at most 32 characters" in reasons[1]
