"""The dead-letter record: reason, raw message, source, time of rejection."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgpack

from connectors.sinks.deadletter import dead_letter_record


def test_record_of_a_raw_dict_with_a_msgpack_timestamp():
    raw = {"T": "t", "S": "GOOG", "p": -1, "t": msgpack.Timestamp.from_unix_nano(1_000_000_001)}
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    record = json.loads(dead_letter_record("invalid trade: price", raw, "replay", when))
    assert record == {
        "reason": "invalid trade: price",
        "raw": {"T": "t", "S": "GOOG", "p": -1, "t": "1970-01-01T00:00:01.000000001Z"},
        "source": "replay",
        "rejected_at": "2026-01-02T03:04:05+00:00",
    }


def test_record_of_undecodable_bytes_keeps_them_readable():
    record = json.loads(dead_letter_record("not msgpack", b"\xc1 not msgpack", "alpaca"))
    assert record["raw"] == "\\xc1 not msgpack"
    assert record["source"] == "alpaca"
    assert datetime.fromisoformat(record["rejected_at"]).tzinfo is not None
