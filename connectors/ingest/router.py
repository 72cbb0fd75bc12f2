"""Ingest's router: each raw message validated against the event schema and sent to its topic,
or, with the reason, to the topic's dead-letter topic (``<topic>.dlq``); ingest keeps running."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from connectors.alpaca.normalize import normalize, topic_kind
from connectors.sinks.deadletter import EventSink
from streamlines.contracts.events import SchemaError
from streamlines.contracts.topics import dead_letter_topic
from streamlines.settings import Settings

log = logging.getLogger(__name__)


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


class Router:
    """Validates each raw message and sends it to its topic, or to the topic's DLQ."""

    def __init__(self, sink: EventSink, topics: Topics, source: str) -> None:
        self.sink = sink
        self.topics = topics
        self.source = source
        self.counts: Counter[str] = Counter()
        self.error: BaseException | None = None
        self.failed = threading.Event()

    def route(self, message: Any) -> None:
        kind = topic_kind(message)
        # A message whose type is unknown cannot name its topic; it joins the trades DLQ.
        topic = self.topics.for_kind(kind) if kind else self.topics.trades
        try:
            event = normalize(message)
        except SchemaError as exc:
            self.reject(topic, exc.reason, message)
            return
        self.sink.send(topic, event)
        self.counts[event.kind] += 1

    def reject(self, topic: str, reason: str, raw: Any) -> None:
        self.sink.dead_letter(topic, reason, raw, self.source)
        self.counts["rejected"] += 1
        log.warning("rejected a message to %s: %s", dead_letter_topic(topic), reason)

    async def on_message(self, message: Any) -> None:
        # alpaca-py logs and swallows handler errors, which would drop the message silently;
        # instead a sink failure stops ingest.
        if self.failed.is_set():
            return
        try:
            self.route(message)
        except Exception as exc:
            self.error = exc
            self.failed.set()

    def on_malformed(self, frame: bytes | str, reason: str) -> None:
        try:
            self.reject(self.topics.trades, reason, frame)
        except Exception as exc:
            self.error = exc
            self.failed.set()
