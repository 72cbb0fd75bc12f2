"""Raw Alpaca stream messages (dicts, as alpaca-py gives them with ``raw_data=True``) to the
one event schema. Anything that does not fit raises ``SchemaError`` with the reason."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgpack

from streamlines.contracts.events import Bar, Event, Quote, SchemaError, Trade
from streamlines.contracts.time import NS_PER_SECOND, datetime_to_ns

# Alpaca's RFC 3339 times carry up to nanoseconds, which datetime cannot hold.
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")

# Alpaca field -> schema field, per message type ``T``.
_FIELDS: dict[str, tuple[type[Event], dict[str, str]]] = {
    "t": (
        Trade,
        {"p": "price", "s": "size", "i": "trade_id", "x": "exchange", "c": "conditions",
         "z": "tape"},
    ),
    "q": (
        Quote,
        {"bp": "bid_price", "bs": "bid_size", "ap": "ask_price", "as": "ask_size",
         "bx": "bid_exchange", "ax": "ask_exchange", "c": "conditions", "z": "tape"},
    ),
    "b": (
        Bar,
        {"o": "open", "h": "high", "l": "low", "c": "close", "v": "volume",
         "n": "trade_count", "vw": "vwap"},
    ),
}  # fmt: skip


def event_time_ns(value: Any) -> int:
    """Alpaca's ``t`` (msgpack Timestamp, RFC 3339 string or aware datetime) in UTC ns."""
    if isinstance(value, msgpack.Timestamp):
        return value.to_unix_nano()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SchemaError("t: timestamp has no time zone")
        return datetime_to_ns(value)
    if isinstance(value, str):
        match = _RFC3339.match(value)
        if match is None:
            raise SchemaError(f"t: not an RFC 3339 timestamp: {value[:40]!r}")
        whole, fraction, zone = match.groups()
        zone = "+00:00" if zone == "Z" else zone
        try:
            seconds = int(datetime.fromisoformat(whole + zone).timestamp())
        except ValueError:  # e.g. month 13
            raise SchemaError(f"t: not a valid time: {value[:40]!r}") from None
        return seconds * NS_PER_SECOND + int((fraction or "").ljust(9, "0"))
    raise SchemaError(f"t: missing or not a timestamp ({type(value).__name__})")


def normalize(message: Mapping[str, Any]) -> Event:
    """One raw trade (``T`` = t), quote (q) or minute bar (b) as a ``Trade``/``Quote``/``Bar``."""
    if not isinstance(message, Mapping):
        raise SchemaError(f"message: not an object ({type(message).__name__})")
    kind = message.get("T")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise SchemaError(f"T: not a trade, quote or bar message ({kind!r})")
    model, fields = _FIELDS[kind]
    data: dict[str, Any] = {"symbol": message.get("S"), "t_ns": event_time_ns(message.get("t"))}
    for source, target in fields.items():
        value = message.get(source)
        if value is None:
            continue
        # Stock trades carry conditions as a list; crypto has none, and a single string is one.
        data[target] = (value,) if target == "conditions" and isinstance(value, str) else value
    return model.from_dict(data)


def topic_kind(message: Any) -> str | None:
    """``trade``, ``quote`` or ``bar`` for a message's ``T``, when it has a recognised one."""
    kind = message.get("T") if isinstance(message, Mapping) else None
    if isinstance(kind, str) and kind in _FIELDS:
        return _FIELDS[kind][0].kind
    return None
