"""Hostile messages for the ``hostile_every`` fault: what a broken or malicious feed could send,
each built from a good message just sent (so it names a subscribed symbol and a plausible time)
and marked with its kind in an extra field ``hostile`` (clients ignore fields they do not know,
as Alpaca's do; a test groups what its dead-letter topic received by it)."""

from __future__ import annotations

import math

import msgpack

from connectors.replay.protocol import Message
from streamlines.contracts.time import NS_PER_DAY

# Each kind in turn. The reason a client should give is in docs/faults.md.
KINDS = (
    "wrong_type",  # price as a string
    "bool_size",  # size as a boolean
    "nan_price",
    "inf_size",
    "negative_size",
    "zero_size",
    "huge_symbol",  # a 10,000-character symbol nobody subscribed to
    "crossed_quote",  # bid above ask
    "future_time",  # the year 2200
    "past_time",  # a year before the stream's time
    "duplicate",  # the last good trade again, same id
    "missing_field",  # a trade without a price
    "bad_timestamp",  # t is not a timestamp
    "unknown_type",  # T is a number
)
FAR_FUTURE_NS = 7_258_118_400 * 10**9  # 2200-01-01T00:00:00Z


class HostileMessages:
    """Builds the next hostile message from the last good trade and quote of a stream."""

    def __init__(self) -> None:
        self._next = 0
        self.trade: Message | None = None
        self.quote: Message | None = None

    def saw(self, message: Message) -> None:
        """A good message went out: the templates of the next hostile ones."""
        kind = message.get("T")
        if kind == "t":
            self.trade = message
        elif kind == "q":
            self.quote = message

    @property
    def ready(self) -> bool:
        """Whether a hostile message can be made: a trade has been sent."""
        return self.trade is not None

    def make(self) -> tuple[str, Message]:
        """The next kind and its message (once ``ready``)."""
        assert self.trade is not None
        kind = KINDS[self._next % len(KINDS)]
        self._next += 1
        if kind == "crossed_quote" and self.quote is None:
            kind = "negative_size"
        return kind, {**_build(kind, self.trade, self.quote), "hostile": kind}


def _build(kind: str, trade: Message, quote: Message | None) -> Message:
    t_ns = trade["t"].to_unix_nano()
    all_changes: dict[str, Message] = {
        "wrong_type": {"p": str(trade["p"])},
        "bool_size": {"s": True},
        "nan_price": {"p": math.nan},
        "inf_size": {"s": math.inf},
        "negative_size": {"s": -abs(trade["s"]) or -100},
        "zero_size": {"s": 0},
        "huge_symbol": {"S": "X" * 10_000},
        "future_time": {"t": msgpack.Timestamp.from_unix_nano(FAR_FUTURE_NS)},
        "past_time": {"t": msgpack.Timestamp.from_unix_nano(t_ns - 365 * NS_PER_DAY)},
        "duplicate": {},
        "bad_timestamp": {"t": "yesterday"},
        "unknown_type": {"T": 42},
    }
    changes = all_changes.get(kind, {})
    if kind == "crossed_quote":
        assert quote is not None
        return {**quote, "bp": quote["ap"] + 1.0}
    message = {**trade, **changes}
    if kind == "missing_field":
        del message["p"]
    return message
