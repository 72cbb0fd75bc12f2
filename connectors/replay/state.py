"""The replay server's configuration, fault plan and shared runtime state."""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

import pandas as pd

from connectors.replay.clock import ReplayClock
from connectors.replay.corporate_action_rows import CorporateAction
from connectors.replay.universe import Universe

STOCK_FEEDS = ("iex", "sip", "delayed_sip", "test")
# The first stock session's open (09:30 New York): stocks and crypto both trade from here.
DEFAULT_START = "2012-01-03T14:30:00Z"


def parse_start(text: str) -> int:
    """A start date or time (ISO 8601, UTC unless it says otherwise) as ns since the epoch."""
    stamp = pd.Timestamp(text)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value)


@dataclass
class ReplayConfig:
    speed: float | None = None  # None: as fast as the client reads; 1.0: real time
    start: str = DEFAULT_START
    auth_timeout: float = 10.0
    max_connections_per_key: int = 1
    max_symbols: int | None = None
    # Stock feeds (path segments) that credentials may use; others answer 409.
    allowed_feeds: tuple[str, ...] = STOCK_FEEDS
    # key -> secret; empty accepts any non-empty credentials.
    credentials: dict[str, str] = field(default_factory=dict)
    rest_rate_limit: int | None = None  # requests per minute per key
    slow_client_seconds: float = 30.0

    @property
    def start_ns(self) -> int:
        return parse_start(self.start)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["credentials"] = sorted(self.credentials)  # keys only; secrets never leave
        return data


@dataclass
class Faults:
    """Failures to inject. Counts of -1 mean "every time"."""

    drop_after_messages: int | None = None  # close a stream after N data messages
    drop_connections: int = 1  # how many streams the drop applies to
    refuse_auth: int = 0  # this many auth attempts fail with 402
    malformed_every: int | None = None  # every Nth data frame is replaced by garbage
    out_of_order_every: int | None = None  # every Nth message swaps with the next one
    hostile_every: int | None = None  # after every Nth data message, a hostile one
    hostile_count: int = -1  # how many hostile messages to send in all
    rest_error_status: int | None = None  # 429 or 500 from data endpoints
    rest_error_count: int = 0  # for this many requests

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def update(self, changes: dict[str, Any]) -> None:
        unknown = set(changes) - self.names()
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            setattr(self, name, value)

    @staticmethod
    def take(remaining: int) -> tuple[bool, int]:
        """Whether a counted fault fires now, and the count left afterwards."""
        if remaining == 0:
            return False, 0
        return True, remaining if remaining < 0 else remaining - 1

    def rest_error_now(self) -> int | None:
        """The status a REST data request must fail with now (counting it), or None."""
        if self.rest_error_status is None:
            return None
        fire, self.rest_error_count = self.take(self.rest_error_count)
        return self.rest_error_status if fire else None


class RateLimiter:
    """A sliding one-minute window per key."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def hit(self, key: str, limit: int) -> tuple[bool, int, int]:
        """Record a request: (allowed, remaining, unix second the window resets)."""
        now = time.time()
        hits = self._hits[key]
        while hits and hits[0] <= now - 60:
            hits.popleft()
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        reset = int((hits[0] if hits else now) + 60)
        return allowed, max(0, limit - len(hits)), reset


class SendLog:
    """When each trade left the server (wall clock, ns), for latency measurements downstream:
    off unless asked for (``POST /control/send-log``), and bounded."""

    def __init__(self, limit: int = 5_000_000) -> None:
        self.limit = limit
        self.trades: list[tuple[str, int, int]] = []  # (symbol, event time ns, sent ns)
        self.dropped = 0

    def record(self, messages: list[dict[str, Any]], sent_ns: int) -> None:
        for message in messages:
            if message.get("T") != "t" or "hostile" in message:
                continue
            if len(self.trades) >= self.limit:
                self.dropped += 1
                continue
            stamp = message["t"]
            t_ns = stamp.to_unix_nano() if hasattr(stamp, "to_unix_nano") else int(stamp)
            self.trades.append((message["S"], t_ns, sent_ns))


class Droppable(Protocol):
    """An open stream, as the control endpoint sees it."""

    key: str | None
    asset_class: str

    async def drop(self) -> None: ...


@dataclass
class ServerState:
    config: ReplayConfig
    universe: Universe
    faults: Faults = field(default_factory=Faults)
    connections: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Where each (key, asset class) stream stopped: an unpaced reconnect continues there, a
    # paced one joins the timeline where it is now (see ``stream_start``).
    positions: dict[tuple[str, str], int] = field(default_factory=dict)
    # The streams open now, so the control endpoint can drop them.
    sessions: set[Droppable] = field(default_factory=set)
    # key -> monotonic time until which the key's new streams are refused (an outage).
    away_until: dict[str, float] = field(default_factory=dict)
    # Hostile messages sent, by kind (``connectors.replay.hostile``).
    hostile_sent: Counter[str] = field(default_factory=Counter)
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    messages_sent: int = 0
    streams_opened: int = 0  # authenticated streams since start (reconnects included)
    send_log: SendLog | None = None
    # The paced timeline, shared by every connection streaming at once (stocks and crypto).
    clock: ReplayClock | None = None
    # Served on /v1/corporate-actions (none built in: see connectors.replay.corporate_action_rows).
    corporate_actions: list[CorporateAction] = field(default_factory=list)

    def stream_start(self, key: str, asset_class: str) -> tuple[int, ReplayClock | None]:
        """Where a new stream starts and the clock that paces it.

        Paced, as on Alpaca, a stream gets what happens from now on: when another connection
        streams now (of either asset class), or when the key streamed before (a reconnect),
        it joins the timeline where it is now. The timeline keeps moving while a client is
        away, so what was sent in the meantime is gone, not resumed: a client fills such a
        gap from the historical REST API. Otherwise (nobody streams, a key not seen before)
        the stream starts a new timeline at the configured start. Stocks and crypto share the
        timeline as they share the wall clock live: a consumer that merges both in event time
        (one Kafka topic, one Flink watermark) would otherwise find the one that started later
        all late.

        Unpaced (speed max) nothing happens while nobody reads, so there is nothing to miss: a
        reconnect continues where the key's last stream of the asset class stopped."""
        config = self.config
        saved = self.positions.get((key, asset_class))
        if not config.speed:
            return (config.start_ns if saved is None else saved), None
        clock = self.clock
        if (
            clock is not None
            and clock.speed == config.speed
            and (clock.members or saved is not None)
        ):
            return clock.now(), clock
        clock = self.clock = ReplayClock(config.speed, config.start_ns)
        return config.start_ns, clock

    def away(self, key: str) -> bool:
        """Whether ``key``'s streams are refused now (an outage the control endpoint set)."""
        until = self.away_until.get(key)
        if until is None:
            return False
        if time.monotonic() < until:
            return True
        del self.away_until[key]
        return False

    def accepts(self, key: Any, secret: Any) -> bool:
        if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
            return False
        if not self.config.credentials:
            return True
        return self.config.credentials.get(key) == secret
