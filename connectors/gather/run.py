"""A gather run: symbols fetched concurrently (worker threads, each with its own HTTP session),
bars written from the calling thread through the one InfluxDB writer in large batches and sent
to Kafka keyed by symbol. A symbol that fails is reported and the others go on; an error that
no symbol can get past (source unreachable, keys refused, InfluxDB refusing writes) stops the
run at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from kafka.errors import KafkaError
from rich.console import Console

from connectors.gather.client import (
    FETCH_WINDOW,
    BarClient,
    SourceUnavailable,
    Stopped,
    SymbolFailed,
)
from connectors.gather.progress import GatherProgress
from connectors.sinks.influx import InfluxWriter
from connectors.sinks.kafka import KafkaSink, ensure_topics
from streamlines.contracts.events import HistoryBar
from streamlines.contracts.points import bar_line
from streamlines.contracts.time import datetime_to_ns
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.contracts.topics import dead_letter_topic
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Job:
    """One symbol's bars with start <= t <= end.

    ``completed_by``: keep only bars whose period had ended by then. ``latest_only``: keep only
    the latest bar. ``if_empty``: why finding no bar at all is a failure (None: it is not, the
    symbol is up to date).
    """

    symbol: str
    start: datetime
    end: datetime
    completed_by: datetime | None = None
    latest_only: bool = False
    if_empty: str | None = "no bars in that range: an unknown symbol, or no trading then"

    def windows(self, timeframe: BarTimeframe) -> list[tuple[datetime, datetime]]:
        """The range cut into fetches of ``FETCH_WINDOW[timeframe]``, each end inclusive."""
        cuts = []
        start = self.start
        while start <= self.end:
            stop = min(start + FETCH_WINDOW[timeframe], self.end + ONE_MICROSECOND)
            cuts.append((start, stop - ONE_MICROSECOND))
            start = stop
        return cuts

    def keep(self, bars: list[HistoryBar], timeframe: BarTimeframe) -> list[HistoryBar]:
        if self.completed_by is None:
            return bars
        last_start = datetime_to_ns(self.completed_by - timeframe.length)
        return [bar for bar in bars if bar.t_ns <= last_start]


@dataclass(frozen=True)
class Request:
    """What one gather writes where: ``jobs`` at ``timeframe`` into InfluxDB ``bucket`` and
    Kafka ``topic`` (None: InfluxDB only), ``concurrency`` symbols fetched at once."""

    settings: Settings
    jobs: list[Job]
    timeframe: BarTimeframe
    bucket: str
    topic: str | None
    concurrency: int


class Progress(Protocol):
    """What a run reports its progress to (the terminal's bars, or a server job)."""

    def advance(self, symbol: str, bars: int) -> None: ...

    def finish(self, symbol: str, note: str, failed: bool = False) -> None: ...


# symbol -> number of fetch windows  ->  a context manager that receives the progress
ProgressFactory = Callable[[dict[str, int]], AbstractContextManager[Progress]]


@dataclass
class SymbolResult:
    bars: int = 0
    rejected: int = 0
    error: str | None = None


@dataclass
class Report:
    results: dict[str, SymbolResult]
    points: int = 0
    records: int = 0
    dead_lettered: int = 0
    retries: int = 0
    seconds: float = 0.0

    @property
    def bars(self) -> int:
        return sum(r.bars for r in self.results.values())

    @property
    def failed(self) -> dict[str, str]:
        return {s: r.error for s, r in self.results.items() if r.error is not None}


@dataclass
class _Chunk:
    symbol: str
    bars: list[HistoryBar]
    rejected: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    windows: int = 1


@dataclass
class _Done:
    symbol: str
    error: str | None


@dataclass
class _Fatal:
    error: BaseException


class Gatherer:
    def __init__(
        self,
        client: BarClient,
        writer: InfluxWriter,
        sink: KafkaSink | None,
        topic: str,
        timeframe: BarTimeframe,
        concurrency: int = 4,
        console: Console | None = None,
        progress: ProgressFactory | None = None,
    ) -> None:
        self.client = client
        self.writer = writer
        self.sink = sink
        self.topic = topic
        self.timeframe = timeframe
        self.concurrency = max(1, concurrency)
        self.console = console
        self.progress = progress or (lambda windows: GatherProgress(windows, console))
        self._out: queue.Queue[_Chunk | _Done | _Fatal] = queue.Queue(self.concurrency * 4)
        self._lines: list[str] = []

    def run(self, jobs: list[Job]) -> Report:
        started = time.monotonic()
        report = Report({job.symbol: SymbolResult() for job in jobs})
        windows = {job.symbol: len(job.windows(self.timeframe)) for job in jobs}
        todo: queue.SimpleQueue[Job] = queue.SimpleQueue()
        for job in jobs:
            todo.put(job)
        workers = [
            threading.Thread(target=self._worker, args=(todo,), name=f"gather-{k}", daemon=True)
            for k in range(min(self.concurrency, len(jobs)))
        ]
        with self.progress(windows) as progress:
            for worker in workers:
                worker.start()
            try:
                remaining = len(jobs)
                while remaining:
                    try:
                        item = self._out.get(timeout=0.5)
                    except queue.Empty:
                        continue
                    if isinstance(item, _Fatal):
                        if isinstance(item.error, SourceUnavailable):
                            raise UserError(str(item.error), item.error.hint)
                        raise item.error
                    result = report.results[item.symbol]
                    if isinstance(item, _Done):
                        remaining -= 1
                        result.error = item.error
                        note = "done" if result.bars else "up to date"
                        note = f"failed: {item.error}" if item.error else note
                        progress.finish(item.symbol, note, failed=item.error is not None)
                        continue
                    self._take(item, result)
                    progress.advance(item.symbol, len(item.bars))
                self._flush()
            finally:
                self.client.stop()  # workers stop at their next request or wait
        self._finish_kafka(report)
        report.points = self.writer.points_written
        report.retries = self.client.retries
        report.seconds = time.monotonic() - started
        return report

    def _take(self, chunk: _Chunk, result: SymbolResult) -> None:
        result.bars += len(chunk.bars)
        result.rejected += len(chunk.rejected)
        self._lines.extend(bar_line(bar) for bar in chunk.bars)
        if self.sink is not None:
            for bar in chunk.bars:
                self.sink.send(self.topic, bar)
        for raw, reason in chunk.rejected:
            log.warning("%s: bar rejected: %s", chunk.symbol, reason)
            if self.sink is not None:
                self.sink.dead_letter(self.topic, reason, raw, source=self.client.source.name)
        if len(self._lines) >= self.writer.batch_size:
            self._flush()

    def _flush(self) -> None:
        if not self._lines:
            return
        self.writer.write(self._lines)
        self._lines = []

    def _finish_kafka(self, report: Report) -> None:
        if self.sink is None:
            return
        self.sink.flush(60)
        counters = self.sink.counters
        report.records = counters.acked - counters.dead_lettered
        report.dead_lettered = counters.dead_lettered
        if counters.failed:
            raise UserError(
                f"{counters.failed} records were not delivered to Kafka topic {self.topic} "
                f"(InfluxDB has every bar: {self.writer.points_written} points)",
                "check Kafka (`streamlines stack status`) and run the same gather again",
            )

    def _worker(self, todo: queue.SimpleQueue[Job]) -> None:
        while not self.client.stopping.is_set():
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            try:
                self._gather(job)
            except Stopped:
                return
            except SymbolFailed as exc:
                self._put(_Done(job.symbol, str(exc)))
            except BaseException as exc:
                self._put(_Fatal(exc))
                return

    def _gather(self, job: Job) -> None:
        found = rejected = 0
        latest: HistoryBar | None = None
        first_reason = ""
        for start, end in job.windows(self.timeframe):
            if self.client.stopping.is_set():
                raise Stopped()
            fetched = self.client.fetch(job.symbol, self.timeframe, start, end)
            bars = job.keep(fetched.bars, self.timeframe)
            rejected += len(fetched.rejected)
            first_reason = first_reason or (fetched.rejected[0][1] if fetched.rejected else "")
            if job.latest_only:
                latest = bars[-1] if bars else latest
                bars = []
            found += len(bars)
            self._put(_Chunk(job.symbol, bars, fetched.rejected))
        if latest is not None:
            found = 1
            self._put(_Chunk(job.symbol, [latest], windows=0))
        if not found and rejected:
            raise SymbolFailed(f"all {rejected} bars were rejected, e.g. {first_reason}")
        if not found and job.if_empty:
            raise SymbolFailed(job.if_empty)
        self._put(_Done(job.symbol, None))

    def _put(self, item: _Chunk | _Done | _Fatal) -> None:
        # Bounded, so fetching cannot run far ahead of writing; give up when the run stops.
        while True:
            try:
                self._out.put(item, timeout=0.5)
                return
            except queue.Full:
                if self.client.stopping.is_set():
                    raise Stopped() from None


def open_kafka(settings: Settings, topic: str) -> KafkaSink:
    """A producer for ``topic``, which (with its dead-letter topic) exists once this returns."""
    try:
        names = [topic, dead_letter_topic(topic)]
        ensure_topics(settings, names, settings.kafka_topic_partitions)
        # A backfill sends many small records at once: larger, later batches cost less CPU.
        return KafkaSink(
            settings,
            max_in_flight=100_000,
            block_timeout=settings.ingest_block_timeout,
            client_id="streamlines-gather",
            linger_ms=50,
            batch_size=1 << 20,
        )
    except KafkaError as exc:
        raise UserError(
            f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}",
            "start the local stack with `streamlines stack up`, or pass --no-kafka",
        ) from None


def run_here(request: Request, progress: ProgressFactory | None = None) -> Report:
    """The whole gather of ``request`` in this process; failures are in the report. Progress
    goes to the terminal's bars, or to ``progress``."""
    settings, jobs, topic = request.settings, request.jobs, request.topic
    client = BarClient.from_settings(settings)
    sink = open_kafka(settings, topic) if topic else None
    writer = InfluxWriter.from_settings(settings, request.bucket)
    log.info(
        "gathering %s bars of %d symbols from %s into InfluxDB bucket %s%s",
        request.timeframe.value, len(jobs), client.source.name, request.bucket,
        f" and Kafka topic {topic}" if topic else "",
    )  # fmt: skip
    try:
        gatherer = Gatherer(
            client, writer, sink, topic or "", request.timeframe, request.concurrency,
            progress=progress,
        )  # fmt: skip
        report = gatherer.run(jobs)
    finally:
        writer.close()
        if sink is not None:
            sink.close(10)
    rate = report.bars / report.seconds if report.seconds else 0.0
    log.info(
        "gathered %d bars of %d symbols in %.1f s (%.0f bars/s): %d points written, "
        "%d records sent, %d rejected bars, %d retried requests",
        report.bars, len(jobs) - len(report.failed), report.seconds, rate, report.points,
        report.records, sum(r.rejected for r in report.results.values()), report.retries,
    )  # fmt: skip
    return report
