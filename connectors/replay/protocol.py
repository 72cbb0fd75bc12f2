"""Alpaca market-data websocket messages: their shapes, error codes and wire encodings."""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

import msgpack

from streamlines.contracts.time import rfc3339_ns

MAX_FRAME_BYTES = 1 << 20  # Alpaca keeps frames under 1 MiB
Message = dict[str, Any]


class ErrorCode(IntEnum):
    INVALID_SYNTAX = 400
    NOT_AUTHENTICATED = 401
    AUTH_FAILED = 402
    ALREADY_AUTHENTICATED = 403
    AUTH_TIMEOUT = 404
    SYMBOL_LIMIT_EXCEEDED = 405
    CONNECTION_LIMIT_EXCEEDED = 406
    SLOW_CLIENT = 407
    INSUFFICIENT_SUBSCRIPTION = 409
    INVALID_SUBSCRIBE_ACTION = 410


ERROR_TEXT = {
    ErrorCode.INVALID_SYNTAX: "invalid syntax",
    ErrorCode.NOT_AUTHENTICATED: "not authenticated",
    ErrorCode.AUTH_FAILED: "auth failed",
    ErrorCode.ALREADY_AUTHENTICATED: "already authenticated",
    ErrorCode.AUTH_TIMEOUT: "auth timeout",
    ErrorCode.SYMBOL_LIMIT_EXCEEDED: "symbol limit exceeded",
    ErrorCode.CONNECTION_LIMIT_EXCEEDED: "connection limit exceeded",
    ErrorCode.SLOW_CLIENT: "slow client",
    ErrorCode.INSUFFICIENT_SUBSCRIPTION: "insufficient subscription",
    ErrorCode.INVALID_SUBSCRIBE_ACTION: "invalid subscribe action for this feed",
}


def timestamp(t_ns: int) -> msgpack.Timestamp:
    return msgpack.Timestamp.from_unix_nano(int(t_ns))


def success(msg: str) -> Message:
    return {"T": "success", "msg": msg}


def error(code: ErrorCode) -> Message:
    return {"T": "error", "code": int(code), "msg": ERROR_TEXT[code]}


def number(value: float, integral: bool) -> int | float:
    return int(value) if integral else float(value)


def trade(
    symbol: str, t_ns: int, trade_id: int, price: float, size: float, *, stock: bool
) -> Message:
    if stock:
        return {
            "T": "t",
            "S": symbol,
            "i": int(trade_id),
            "x": "V",
            "p": float(price),
            "s": int(size),
            "c": ["@"],
            "z": "C",
            "t": timestamp(t_ns),
        }
    return {
        "T": "t",
        "S": symbol,
        "i": int(trade_id),
        "p": float(price),
        "s": float(size),
        "t": timestamp(t_ns),
        "tks": "B",
    }


def quote(
    symbol: str,
    t_ns: int,
    bid_price: float,
    bid_size: float,
    ask_price: float,
    ask_size: float,
    *,
    stock: bool,
) -> Message:
    if stock:
        return {
            "T": "q",
            "S": symbol,
            "bx": "V",
            "bp": float(bid_price),
            "bs": int(bid_size),
            "ax": "V",
            "ap": float(ask_price),
            "as": int(ask_size),
            "c": ["R"],
            "z": "C",
            "t": timestamp(t_ns),
        }
    return {
        "T": "q",
        "S": symbol,
        "bp": float(bid_price),
        "bs": float(bid_size),
        "ap": float(ask_price),
        "as": float(ask_size),
        "t": timestamp(t_ns),
    }


def orderbook(
    symbol: str,
    t_ns: int,
    bid: tuple[float, float],
    ask: tuple[float, float],
    *,
    reset: bool,
) -> Message:
    return {
        "T": "o",
        "S": symbol,
        "t": timestamp(t_ns),
        "b": [{"p": float(bid[0]), "s": float(bid[1])}],
        "a": [{"p": float(ask[0]), "s": float(ask[1])}],
        "r": reset,
    }


def bar(
    kind: str,
    symbol: str,
    t_ns: int,
    ohlc: tuple[float, float, float, float],
    volume: float,
    trade_count: int,
    vwap: float,
    *,
    integral_volume: bool,
) -> Message:
    """A minute bar ``b``, an updated bar ``u`` or a daily bar ``d``."""
    return {
        "T": kind,
        "S": symbol,
        "o": float(ohlc[0]),
        "h": float(ohlc[1]),
        "l": float(ohlc[2]),
        "c": float(ohlc[3]),
        "v": number(volume, integral_volume),
        "t": timestamp(t_ns),
        "n": int(trade_count),
        "vw": float(vwap),
    }


def trading_status(symbol: str, t_ns: int) -> Message:
    return {
        "T": "s",
        "S": symbol,
        "sc": "T",
        "sm": "Trading Resumption",
        "rc": "",
        "rm": "",
        "t": timestamp(t_ns),
        "z": "C",
    }


def luld(symbol: str, t_ns: int, reference: float) -> Message:
    return {
        "T": "l",
        "S": symbol,
        "u": round(reference * 1.05, 2),
        "d": round(reference * 0.95, 2),
        "i": "B",
        "t": timestamp(t_ns),
        "z": "C",
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, msgpack.Timestamp):
        return rfc3339_ns(value.to_unix_nano())
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


class FrameEncoder:
    """Encodes message lists as frames: binary msgpack or JSON text, each under 1 MiB."""

    def __init__(self, use_msgpack: bool) -> None:
        self.use_msgpack = use_msgpack

    def encode_one(self, messages: list[Message]) -> bytes | str:
        if self.use_msgpack:
            return msgpack.packb(messages, use_bin_type=True)
        return json.dumps(messages, default=_json_default, separators=(",", ":"))

    def encode(self, messages: list[Message]) -> list[bytes | str]:
        frame = self.encode_one(messages)
        if len(frame) < MAX_FRAME_BYTES or len(messages) == 1:
            return [frame]
        half = len(messages) // 2
        return self.encode(messages[:half]) + self.encode(messages[half:])


def decode_client_message(data: bytes | str) -> Any:
    """A client frame: msgpack when binary, JSON when text. Raises ValueError when malformed."""
    try:
        if isinstance(data, bytes):
            return msgpack.unpackb(data, raw=False)
        return json.loads(data)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise ValueError(str(exc)) from exc
