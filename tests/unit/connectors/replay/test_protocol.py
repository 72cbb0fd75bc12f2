"""Wire encodings: msgpack Timestamp (ext -1) in nanoseconds, JSON RFC 3339, frame size."""

from __future__ import annotations

import json

import msgpack

from connectors.replay import protocol
from connectors.replay.protocol import MAX_FRAME_BYTES, FrameEncoder


def test_msgpack_timestamp_keeps_nanoseconds():
    t_ns = 1_325_601_024_177_544_805
    frame = FrameEncoder(use_msgpack=True).encode(
        [protocol.trade("GOOG", t_ns, 1, 1.5, 100, stock=True)]
    )
    (decoded,) = msgpack.unpackb(frame[0])
    assert decoded["t"].to_unix_nano() == t_ns
    assert decoded["s"] == 100


def test_json_times_are_rfc3339_with_nanoseconds():
    frame = FrameEncoder(use_msgpack=False).encode(
        [protocol.trade("X", 1_325_601_024_000_000_005, 1, 1.5, 1, stock=True)]
    )
    assert json.loads(frame[0])[0]["t"] == "2012-01-03T14:30:24.000000005Z"


def test_crypto_trades_have_no_exchange_conditions_or_tape():
    message = protocol.trade("BTC/USD", 0, 1, 1.5, 0.25, stock=False)
    assert not {"x", "c", "z"} & set(message)
    assert message["s"] == 0.25


def test_bars_carry_trade_count_and_vwap():
    message = protocol.bar("b", "X", 0, (1.0, 2.0, 0.5, 1.5), 10.0, 3, 1.2, integral_volume=True)
    assert message["n"] == 3
    assert message["vw"] == 1.2
    assert message["v"] == 10


def test_large_batches_split_into_frames_under_one_mebibyte():
    messages = [protocol.trade("GOOG", k, k, 1.5, 100, stock=True) for k in range(40_000)]
    frames = FrameEncoder(use_msgpack=True).encode(messages)
    assert len(frames) > 1
    assert all(len(f) < MAX_FRAME_BYTES for f in frames)
    assert sum(len(msgpack.unpackb(f)) for f in frames) == 40_000
