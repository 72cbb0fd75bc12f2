"""Ingest's router: each raw message validated against the event schema and sent to its topic,
or, with the reason, to the topic's dead-letter topic (``<topic>.dlq``); ingest keeps running.

Beyond the schema (``streamlines.contracts.events``: types, finite numbers, positive sizes, a
bid not above the ask, a symbol of at most 32 characters), the stream's own history decides two
more things: an event time far ahead of the wall clock or far behind the symbol's newest
(``EventTimes``), and a trade id that came before (``TradeIds``). Trades a gap backfill fetched
(``route_backfilled``) skip the time check (they are old on purpose) and a repeat of one the
stream sent is counted, not dead-lettered: overlapping the gap's edges is how nothing is
missed."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from connectors.alpaca.normalize import normalize, topic_kind
from connectors.ingest.event_times import EventTimes
from connectors.ingest.trade_ids import TradeIds
from connectors.sinks.deadletter import EventSink
from streamlines.contracts.events import Event, SchemaError, Trade
from streamlines.contracts.time import NS_PER_SECOND
from streamlines.contracts.topics import dead_letter_topic
from streamlines.settings import Settings

log = logging.getLogger(__name__)
LOGGED_REJECTIONS = 20


@dataclass(frozen=True)
class Topics:
    trades: str
    quotes: str
    bars: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Topics:
        return cls(
            settings.ingest_topic_trades, settings.ingest_topic_quotes, settings.ingest_topic_bars
        )

    def for_kind(self, kind: str) -> str:
        return {"trade": self.trades, "quote": self.quotes, "bar": self.bars}[kind]

    def all(self) -> list[str]:
        return [self.trades, self.quotes, self.bars]

    def with_dead_letters(self) -> list[str]:
        """Every topic, and the dead-letter topic of each."""
        return self.all() + [dead_letter_topic(t) for t in self.all()]


@dataclass(frozen=True)
class Checks:
    """The checks that need the stream's history."""

    times: EventTimes
    trade_ids: TradeIds

    @classmethod
    def from_settings(cls, settings: Settings) -> Checks:
        return cls(
            EventTimes(
                int(settings.ingest_max_ahead_seconds * NS_PER_SECOND),
                int(settings.ingest_max_behind_seconds * NS_PER_SECOND),
            ),
            TradeIds(int(settings.ingest_trade_id_memory_seconds * NS_PER_SECOND)),
        )


class Router:
    """Validates each raw message and sends it to its topic, or to the topic's DLQ."""

    def __init__(
        self, sink: EventSink, topics: Topics, source: str, checks: Checks | None = None
    ) -> None:
        """``checks`` None: with the settings' defaults."""
        self.sink = sink
        self.topics = topics
        self.source = source
        self.checks = checks or Checks.from_settings(Settings.model_construct())
        self.counts: Counter[str] = Counter()
        self.error: BaseException | None = None
        self.failed = threading.Event()
        self._lock = threading.Lock()  # the counts: the streams' threads and the backfill's

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def _parse(self, message: Any) -> tuple[str, Event | None]:
        """The message's topic and its event; None (after dead-lettering it) when invalid."""
        kind = topic_kind(message)
        # A message whose type is unknown cannot name its topic; it joins the trades DLQ.
        topic = self.topics.for_kind(kind) if kind else self.topics.trades
        try:
            return topic, normalize(message)
        except SchemaError as exc:
            self.reject(topic, exc.reason, message)
            return topic, None

    def route(self, message: Any) -> Event | None:
        """A message of the stream: the event sent, or None when it went to the DLQ."""
        topic, event = self._parse(message)
        if event is None:
            return None
        problem = self.checks.times.problem(event)
        if problem is None and isinstance(event, Trade) and not self._first(event):
            problem = (
                f"duplicate trade: id {event.trade_id} of {event.symbol} (exchange "
                f"{event.exchange}) was already ingested"
            )
        if problem is not None:
            self.reject(topic, f"invalid {event.kind}: {problem}", message)
            return None
        self._send(topic, event)
        return event

    def route_backfilled(self, message: Any) -> str:
        """A message a gap backfill fetched: ``sent``; ``duplicate`` when the stream had
        already sent it; ``rejected`` when invalid (then it is dead-lettered)."""
        topic, event = self._parse(message)
        if event is None:
            return "rejected"
        if isinstance(event, Trade) and not self._first(event):
            return "duplicate"
        self._send(topic, event)
        return "sent"

    def _first(self, trade: Trade) -> bool:
        return self.checks.trade_ids.first_sight(trade)

    def _send(self, topic: str, event: Event) -> None:
        self.sink.send(topic, event)
        self._count(event.kind)

    def reject(self, topic: str, reason: str, raw: Any) -> None:
        self.sink.dead_letter(topic, reason, raw, self.source)
        self._count("rejected")
        rejected = self.counts["rejected"]
        # Each one is in the DLQ with its reason; the log names the first ones and then counts.
        if rejected <= LOGGED_REJECTIONS or rejected % 1000 == 0:
            log.warning(
                "rejected a message to %s (%d so far): %s",
                dead_letter_topic(topic), rejected, reason[:300],
            )  # fmt: skip

    def guarded(self, work: Any, *args: Any) -> Any:
        """``work(*args)``; a failure (the sink's) stops ingest instead of being lost."""
        if self.failed.is_set():
            return None
        try:
            return work(*args)
        except Exception as exc:
            self.error = exc
            self.failed.set()
            return None

    async def on_message(self, message: Any) -> None:
        # alpaca-py logs and swallows handler errors, which would drop the message silently;
        # instead a sink failure stops ingest.
        self.guarded(self.route, message)

    def on_malformed(self, frame: bytes | str, reason: str) -> None:
        self.guarded(self.reject, self.topics.trades, reason, frame)

    def on_undeliverable(self, message: Any) -> None:
        """A message alpaca-py would drop without a word (no handler for its type or symbol):
        dead-lettered with the schema's reason, or as not subscribed."""
        self.guarded(self._undeliverable, message)

    def _undeliverable(self, message: Any) -> None:
        topic, event = self._parse(message)
        if event is not None:
            self.reject(topic, f"S: {event.symbol} is not subscribed on this stream", message)
