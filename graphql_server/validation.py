"""Checks on query arguments, before anything reaches InfluxDB."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from graphql_server.errors import QueryError
from streamlines.contracts.time import datetime_to_ns, ns_to_datetime, utc
from streamlines.contracts.timeframes import BarTimeframe

# Stocks (GOOG, BRK.B), index-like names of the replay data (SP500) and crypto pairs (BTC/USD).
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,14}(/[A-Z0-9]{1,10})?$")
MAX_SUBSCRIPTION_SYMBOLS = 100


MAX_ECHOED_CHARS = 40


def shown(value: str) -> str:
    """A client's value quoted in an error message, cut short (it may be 10,000 characters)."""
    if len(value) <= MAX_ECHOED_CHARS:
        return repr(value)
    return f"{value[:MAX_ECHOED_CHARS]!r}... ({len(value):,} characters)"


def symbol(value: str) -> str:
    if not SYMBOL_PATTERN.fullmatch(value):
        raise QueryError(
            f"invalid symbol {shown(value)}: use an upper-case ticker such as GOOG or a pair "
            "such as BTC/USD (the `symbols` query lists what the store has)"
        )
    return value


MAX_JOB_SYMBOLS = 5_000


def symbols(values: list[str], limit: int = MAX_SUBSCRIPTION_SYMBOLS) -> list[str]:
    if not values:
        raise QueryError('no symbols: pass at least one, e.g. symbols: ["GOOG"]')
    if len(values) > limit:
        raise QueryError(
            f"{len(values)} symbols in one request; the limit is {limit}: "
            "split them over several requests"
        )
    return [symbol(v) for v in dict.fromkeys(values)]


# The end of a range a client left open ("everything from start on").
FAR_FUTURE = datetime(2100, 1, 1)


@dataclass(frozen=True)
class TimeRange:
    start: datetime  # inclusive
    end: datetime  # exclusive

    @classmethod
    def from_ns(cls, start_ns: int, end_ns: int) -> TimeRange:
        """To the microsecond (what datetime holds)."""
        return cls(ns_to_datetime(start_ns), ns_to_datetime(end_ns))

    @property
    def start_ns(self) -> int:
        return datetime_to_ns(self.start)

    @property
    def end_ns(self) -> int:
        return datetime_to_ns(self.end)


def time_range(start: datetime, end: datetime, max_days: float | None) -> TimeRange:
    """[start, end) in UTC; at most ``max_days`` long (None: any length)."""
    start, end = utc(start), utc(end)
    if end <= start:
        raise QueryError(
            f"end {end.isoformat()} is not after start {start.isoformat()}: "
            "pass a start earlier than the end"
        )
    if max_days is not None and end - start > timedelta(days=max_days):
        days = (end - start).total_seconds() / 86_400
        raise QueryError(
            f"the range of {days:g} days is longer than the {max_days:g} days one query may ask "
            "for: split it into several queries (the server's limit is "
            "STREAMLINES_GRAPHQL_MAX_RANGE_DAYS)"
        )
    return TimeRange(start, end)


def bar_range(
    start: datetime,
    end: datetime | None,
    timeframe: BarTimeframe,
    max_bars: int,
    now: datetime | None = None,
    setting: str = "STREAMLINES_GRAPHQL_MAX_POINTS",
) -> TimeRange:
    """[start, end) in UTC (no end: everything from start on), refused when the part of it up to
    ``now`` spans more than ``max_bars`` bars of ``timeframe``: daily bars may ask for
    centuries, minute bars for weeks. Bars after now do not exist yet, so an open or future end
    costs nothing. ``setting`` names the limit in the error."""
    window = time_range(start, end or FAR_FUTURE, None)
    until = min(window.end, utc(now or datetime.now(UTC)))
    longest = timeframe.length * max_bars
    if until - window.start > longest:
        bars = (until - window.start) // timeframe.length
        raise QueryError(
            f"the range from {window.start.isoformat()} to "
            f"{'now' if end is None else window.end.isoformat()} spans {bars:,} {timeframe.value} "
            f"bars, more than the {max_bars:,} one query may ask for: split it into queries of "
            f"at most {_duration(longest)} each (the server's limit is {setting} bars)"
        )
    return window


def _duration(span: timedelta) -> str:
    """``span`` in whole days, hours or minutes (rounded down), e.g. "69 days"."""
    for unit, name in ((timedelta(days=1), "day"), (timedelta(hours=1), "hour")):
        if span >= unit:
            count = span // unit
            return f"{count:,} {name}{'s' if count != 1 else ''}"
    minutes = span // timedelta(minutes=1)
    return f"{minutes:,} minute{'s' if minutes != 1 else ''}"


def limit(value: int | None, max_points: int) -> int:
    if value is None:
        return max_points
    if not 1 <= value <= max_points:
        raise QueryError(f"limit {value}: use a number from 1 to {max_points}")
    return value


MAX_REASON_CHARS = 500


def reason(value: str) -> str:
    text = value.strip()
    if not text:
        raise QueryError('no reason given: say why, e.g. reason: "bad print from the feed"')
    if len(text) > MAX_REASON_CHARS:
        raise QueryError(f"the reason is {len(text)} characters; keep it to {MAX_REASON_CHARS}")
    return text
