"""`streamlines ingest`: Alpaca trades, quotes and minute bars → the event schema → Kafka
topics (or Kinesis streams), keyed by symbol. Messages that fail validation go to
``<topic>.dlq`` with the reason; ingest keeps running."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from connectors.alpaca.normalize import normalize, topic_kind
from connectors.sinks.deadletter import EventSink
from streamlines.contracts.events import SchemaError
from streamlines.contracts.topics import dead_letter_topic
from streamlines.errors import UserError
from streamlines.settings import Settings

if TYPE_CHECKING:
    from connectors.alpaca.stream import Endpoints

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


class Ingest:
    """Stock and crypto streams, each on its own thread, feeding one sink."""

    def __init__(
        self,
        ends: Endpoints,
        sink: EventSink,
        topics: Topics,
        stocks: list[str],
        crypto: list[str],
    ) -> None:
        # alpaca-py takes a second to import; the CLI only pays for it when ingesting.
        from connectors.alpaca.stream import crypto_stream, stock_stream

        self.sink = sink
        self.router = Router(sink, topics, ends.source)
        self.streams: list[Any] = []
        wanted = [(stocks, lambda: stock_stream(ends)), (crypto, lambda: crypto_stream(ends))]
        for symbols, make in wanted:
            if not symbols:
                continue
            stream = make()
            stream.on_malformed = self.router.on_malformed
            handler = self.router.on_message
            stream.subscribe_trades(handler, *symbols)
            stream.subscribe_quotes(handler, *symbols)
            stream.subscribe_bars(handler, *symbols)
            self.streams.append(stream)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for stream in self.streams:
            thread = threading.Thread(target=stream.run, name=f"ingest-{stream._name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 15.0) -> None:
        for stream, thread in zip(self.streams, self._threads, strict=True):
            while stream._loop is None and thread.is_alive():
                time.sleep(0.05)  # stop_ws needs the stream's event loop to be running
            if thread.is_alive() and stream._loop.is_running():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    asyncio.run_coroutine_threadsafe(stream.stop_ws(), stream._loop).result(timeout)
        for thread in self._threads:
            thread.join(timeout)
        self.sink.flush()
        if self.router.error is not None:
            raise UserError(
                f"ingest stopped: the sink failed: {self.router.error}",
                "check that Kafka/Kinesis is up (`streamlines stack status`)",
            )

    def summary(self) -> str:
        counts = self.router.counts
        return (
            f"trades {counts['trade']}, quotes {counts['quote']}, bars {counts['bar']}, "
            f"rejected {counts['rejected']}"
        )


class SinkKind(StrEnum):
    kafka = "kafka"
    kinesis = "kinesis"


def build_sink(kind: str, settings: Settings, topics: Topics) -> EventSink:
    if kind == SinkKind.kafka:
        from kafka.errors import KafkaError

        from connectors.sinks.kafka import KafkaSink, ensure_topics

        try:
            names = topics.all() + [dead_letter_topic(t) for t in topics.all()]
            ensure_topics(
                settings.kafka_bootstrap,
                names,
                settings.kafka_topic_partitions,
                timeout=min(settings.ingest_block_timeout, 30.0),
            )
            return KafkaSink(
                settings.kafka_bootstrap,
                max_in_flight=settings.ingest_max_in_flight,
                block_timeout=settings.ingest_block_timeout,
                client_id="streamlines-ingest",
            )
        except KafkaError as exc:
            raise UserError(
                f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}",
                "start the local stack with `streamlines stack up`",
            ) from None
    if kind == SinkKind.kinesis:
        from connectors.sinks.kinesis import KinesisSink, ensure_streams
        from streamlines.stack.services.kinesis import kinesis_client

        client = kinesis_client(settings.kinesis_endpoint, settings.aws_region)
        names = topics.all() + [dead_letter_topic(t) for t in topics.all()]
        ensure_streams(client, names, settings.kinesis_endpoint)
        return KinesisSink(client, batch_size=min(settings.ingest_max_in_flight, 500))
    raise UserError(f"unknown sink {kind!r}", "use --sink kafka or --sink kinesis")


def _split(value: str | None, default: tuple[str, ...]) -> list[str]:
    if value is None:
        return list(default)
    return [s.strip().upper() for s in value.split(",") if s.strip()]


def ingest(
    symbols: Annotated[
        str | None,
        typer.Option(help="Stocks, comma-separated (default: STREAMLINES_INGEST_SYMBOLS)."),
    ] = None,
    crypto: Annotated[
        str | None,
        typer.Option(help="Crypto pairs such as BTC/USD, comma-separated; '' for none."),
    ] = None,
    sink: Annotated[SinkKind | None, typer.Option(help="Where events go.")] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
) -> None:
    """Stream trades, quotes and minute bars from Alpaca (or the local replay server when no
    keys are set) into Kafka topics or Kinesis streams, keyed by symbol."""
    settings = Settings()
    stocks = _split(symbols, settings.ingest_symbols)
    pairs = _split(crypto, settings.ingest_crypto)
    # A pair given with the stocks belongs on the crypto stream.
    pairs += [s for s in stocks if "/" in s]
    stocks = [s for s in stocks if "/" not in s]
    if not stocks and not pairs:
        raise UserError("no symbols to ingest", "pass --symbols GOOG,SP500 and/or --crypto BTC/USD")
    topics = Topics.from_settings(settings)
    kind = sink.value if sink else settings.ingest_sink
    from connectors.alpaca.stream import endpoints

    ends = endpoints(settings)
    target = build_sink(kind, settings, topics)
    run = Ingest(ends, target, topics, stocks, pairs)
    where = "live Alpaca" if ends.live else f"the replay server at {settings.replay_url}"
    log.info("ingesting %s from %s into %s", ", ".join(stocks + pairs), where, kind)
    run.start()
    deadline = None if duration is None else time.monotonic() + duration
    try:
        while deadline is None or time.monotonic() < deadline:
            wait = 10.0 if deadline is None else min(10.0, deadline - time.monotonic())
            if run.router.failed.wait(max(wait, 0)):
                break
            log.info("ingested so far: %s", run.summary())
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        try:
            run.stop()
        finally:
            target.close()
    log.info("ingest done: %s", run.summary())
