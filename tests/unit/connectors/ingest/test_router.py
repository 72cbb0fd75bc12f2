"""Ingest's router: valid messages to their topic, invalid ones to the topic's DLQ."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack

from connectors.ingest.router import Router, Topics
from streamlines.contracts.events import Event


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
