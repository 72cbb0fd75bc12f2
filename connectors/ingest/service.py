"""Ingest: the stock and crypto streams of Alpaca (or the local replay server when no keys are
set), each on its own thread, through the ``Router`` into one sink: Kafka or Kinesis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kafka.errors import KafkaError

from connectors.alpaca.stream import (
    Endpoints,
    WatchedCryptoDataStream,
    WatchedStockDataStream,
    crypto_stream,
    endpoints,
    stock_stream,
)
from connectors.ingest.gaps import GapFiller, GapReport
from connectors.ingest.history import CryptoHistory, History, StockHistory
from connectors.ingest.router import Checks, Router, Topics
from connectors.sinks.deadletter import EventSink
from connectors.sinks.kafka import KafkaSink, ensure_topics
from connectors.sinks.kinesis import KinesisSink, ensure_streams
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.services.kinesis import kinesis_client

log = logging.getLogger(__name__)

SINKS = ("kafka", "kinesis")


class Ingest:
    """Stock and crypto streams, each on its own thread, feeding one sink; each stream's gaps
    (a lost connection) backfilled from the historical REST API on a worker thread."""

    def __init__(
        self,
        ends: Endpoints,
        sink: EventSink,
        topics: Topics,
        stocks: list[str],
        crypto: list[str],
        settings: Settings | None = None,
    ) -> None:
        settings = settings or Settings()
        self.sink = sink
        self.router = Router(sink, topics, ends.source, Checks.from_settings(settings))
        self.streams: list[Any] = []
        self.gaps: list[GapFiller] = []
        self._backfill = ThreadPoolExecutor(1, thread_name_prefix="ingest-backfill")
        for symbols, make in ((stocks, stock_stream), (crypto, crypto_stream)):
            if not symbols:
                continue
            stream: WatchedStockDataStream | WatchedCryptoDataStream = make(
                ends, settings.ingest_reconnect_max_backoff
            )
            stream.on_malformed = self.router.on_malformed
            stream.on_undeliverable = self.router.on_undeliverable
            handler: Callable[[Any], Coroutine[Any, Any, None]] = self.router.on_message
            if settings.ingest_backfill:
                history: History = (
                    CryptoHistory(ends)
                    if make is crypto_stream
                    else StockHistory(ends, settings.ingest_feed)
                )
                gaps = GapFiller(symbols, history, self.router, self._backfill)
                stream.on_reconnect = gaps.reconnected
                handler = _watching(self.router, gaps)
                self.gaps.append(gaps)
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

    def gap_reports(self) -> list[GapReport]:
        return [report for gaps in self.gaps for report in gaps.reports]

    def stop(self, timeout: float = 15.0) -> None:
        for stream, thread in zip(self.streams, self._threads, strict=True):
            while stream._loop is None and thread.is_alive():
                time.sleep(0.05)  # stop_ws needs the stream's event loop to be running
            if thread.is_alive() and stream._loop.is_running():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    asyncio.run_coroutine_threadsafe(stream.stop_ws(), stream._loop).result(timeout)
        for thread in self._threads:
            thread.join(timeout)
        self._backfill.shutdown(wait=True)  # a backfill under way finishes into the sink
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
            f"rejected {counts['rejected']}, gaps backfilled {len(self.gap_reports())}"
        )


def _watching(router: Router, gaps: GapFiller) -> Callable[[Any], Coroutine[Any, Any, None]]:
    """The stream's handler: route each message, and tell the gap filler what went through."""

    async def handle(message: Any) -> None:
        event = router.guarded(router.route, message)
        if event is not None:
            gaps.saw(event)

    return handle


def _kafka_sink(settings: Settings, topics: Topics) -> KafkaSink:
    try:
        ensure_topics(
            settings,
            topics.with_dead_letters(),
            settings.kafka_topic_partitions,
            timeout=min(settings.ingest_block_timeout, 30.0),
        )
        return KafkaSink(
            settings,
            max_in_flight=settings.ingest_max_in_flight,
            block_timeout=settings.ingest_block_timeout,
            client_id="streamlines-ingest",
        )
    except KafkaError as exc:
        raise UserError(
            f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}",
            "start the local stack with `streamlines stack up`",
        ) from None


def _kinesis_sink(settings: Settings, topics: Topics) -> KinesisSink:
    client = kinesis_client(settings.kinesis_endpoint, settings.aws_region)
    ensure_streams(client, topics.with_dead_letters(), settings.kinesis_endpoint)
    return KinesisSink(
        client,
        batch_size=min(settings.ingest_max_in_flight, 500),
        linger=settings.ingest_kinesis_linger_seconds,
        ordered=settings.ingest_kinesis_ordered,
    )


def build_sink(kind: str, settings: Settings, topics: Topics) -> EventSink:
    """The sink ``kind`` (``kafka`` or ``kinesis``), its topics (or streams) created."""
    if kind == "kafka":
        return _kafka_sink(settings, topics)
    if kind == "kinesis":
        return _kinesis_sink(settings, topics)
    raise UserError(f"unknown sink {kind!r}", "use --sink kafka or --sink kinesis")


def _wait(run: Ingest, duration: float | None) -> None:
    """Until ``duration`` seconds have passed (None: until Ctrl-C) or the sink fails, logging
    the counts every 10 seconds."""
    deadline = None if duration is None else time.monotonic() + duration
    try:
        while deadline is None or time.monotonic() < deadline:
            wait = 10.0 if deadline is None else min(10.0, deadline - time.monotonic())
            if run.router.failed.wait(max(wait, 0)):
                break
            log.info("ingested so far: %s", run.summary())
    except KeyboardInterrupt:
        log.info("stopping")


def run_ingest(
    settings: Settings,
    stocks: list[str],
    crypto: list[str],
    kind: str,
    duration: float | None = None,
) -> None:
    """Ingest ``stocks`` and ``crypto`` pairs into the sink ``kind`` for ``duration`` seconds
    (None: until Ctrl-C)."""
    if not stocks and not crypto:
        raise UserError("no symbols to ingest", "pass --symbols GOOG,SP500 and/or --crypto BTC/USD")
    topics = Topics.from_settings(settings)
    ends = endpoints(settings)
    target = build_sink(kind, settings, topics)
    run = Ingest(ends, target, topics, stocks, crypto, settings)
    where = "live Alpaca" if ends.live else f"the replay server at {settings.replay_url}"
    log.info("ingesting %s from %s into %s", ", ".join(stocks + crypto), where, kind)
    run.start()
    try:
        _wait(run, duration)
    finally:
        try:
            run.stop()
        finally:
            target.close()
    log.info("ingest done: %s", run.summary())
