"""Gather fundamentals into Kafka (``market.fundamentals``, key = symbol) and InfluxDB
(measurement ``fundamentals``): what ``streamlines gather fundamentals`` runs.

``gather_symbols`` fetches, per symbol: the index's monthly series (the index symbol) or its
earnings announcements (every other symbol) from Nasdaq Data Link, and its dividends and splits
from Alpaca's corporate actions. ``gather_file`` reads a user's file instead. Either way every
record is checked with ``fundamental_problem`` first: what passes is written to both stores,
what does not goes to ``market.fundamentals.dlq`` with the reason. Points and records are
keyed by ``(symbol, fact, t_ns)``, so a re-run overwrites in InfluxDB and repeats the same keys
on the topic.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from connectors.fundamentals.files import file_candidates
from connectors.fundamentals.mapping import (
    ANNOUNCEMENT_COLUMNS,
    ANNOUNCEMENTS_TABLE,
    INDEX_DATASETS,
    Candidate,
    announcement_candidates,
    corporate_action_candidates,
    index_candidates,
)
from connectors.fundamentals.nasdaq_data_link import NasdaqDataLink
from connectors.gather.client import BarClient, SourceUnavailable, SymbolFailed
from connectors.gather.progress import GatherProgress
from connectors.gather.run import Progress, open_kafka
from connectors.sinks.influx import InfluxWriter
from connectors.sinks.kafka import KafkaSink
from streamlines.contracts.events import Fundamental, fundamental_problem
from streamlines.contracts.points import fundamental_point
from streamlines.contracts.topics import dead_letter_topic
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

# symbol (or file name) -> steps  ->  a context manager that receives the progress
ProgressFactory = Callable[[dict[str, int]], AbstractContextManager[Progress]]


def terminal_progress(steps: dict[str, int]) -> AbstractContextManager[Progress]:
    return GatherProgress(steps, unit="records")


@dataclass(frozen=True)
class Target:
    """Where a gather writes: the InfluxDB bucket and the Kafka topic (None: InfluxDB only)."""

    bucket: str
    topic: str | None


@dataclass(frozen=True)
class SymbolsRequest:
    """The fundamentals of ``symbols`` dated ``start`` to ``end`` (inclusive); the index's
    monthly values count as known ``publication_lag_days`` after their date."""

    symbols: list[str]
    start: date
    end: date
    publication_lag_days: int = 0


@dataclass
class Report:
    written: Counter[tuple[str, str]] = field(default_factory=Counter)  # (symbol, fact) -> n
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    failed: dict[str, str] = field(default_factory=dict)  # symbol -> why
    empty: list[str] = field(default_factory=list)  # symbols nothing was found for
    not_yet_valid: int = 0
    points: int = 0
    records: int = 0
    dead_lettered: int = 0
    retries: int = 0

    @property
    def total(self) -> int:
        return sum(self.written.values())


class Writer:
    """Checks candidates and writes what passes: InfluxDB (one point each) and Kafka (one
    record each, key = symbol); what does not pass goes to the dead-letter topic."""

    def __init__(
        self, influx: InfluxWriter, sink: KafkaSink | None, topic: str, report: Report
    ) -> None:
        self.influx = influx
        self.sink = sink
        self.topic = topic
        self.report = report
        self.now_ns = time.time_ns()

    def take(self, candidates: list[Candidate], source: str) -> int:
        """Write the valid ``candidates``; returns how many were written."""
        points = []
        for candidate in candidates:
            event = self._checked(candidate, source)
            if event is None:
                continue
            points.append(fundamental_point(event))
            if self.sink is not None:
                self.sink.send(self.topic, event)
            self.report.written[(event.symbol, event.fact)] += 1
        self.influx.write(points)
        return len(points)

    def _checked(self, candidate: Candidate, source: str) -> Fundamental | None:
        payload = json.dumps(candidate.record) if candidate.record is not None else ""
        problem = candidate.problem or fundamental_problem(payload, self.now_ns)
        if problem is None:
            return Fundamental.from_wire(payload)
        log.warning("%s: rejected: %s", candidate.where, problem)
        self.report.rejected.append((candidate.where, problem))
        if self.sink is not None:
            self.sink.dead_letter(self.topic, problem, candidate.raw, source=source)
        return None

    def finish(self) -> None:
        """Wait for Kafka's acknowledgements; a ``UserError`` if any record was not delivered."""
        self.report.points = self.influx.points_written
        if self.sink is None:
            return
        self.sink.flush(60)
        counters = self.sink.counters
        self.report.records = counters.acked - counters.dead_lettered
        self.report.dead_lettered = counters.dead_lettered
        if counters.failed:
            raise UserError(
                f"{counters.failed} records were not delivered to Kafka topic {self.topic} "
                f"(InfluxDB has every fundamental: {self.report.points} points)",
                "check Kafka (`streamlines stack status`) and run the same gather again",
            )


@contextmanager
def opened_writer(settings: Settings, target: Target, report: Report) -> Iterator[Writer]:
    """A ``Writer`` on the target's bucket and topic (created with its ``.dlq`` if missing)."""
    sink = open_kafka(settings, target.topic) if target.topic else None
    influx = InfluxWriter.from_settings(settings, target.bucket)
    try:
        writer = Writer(influx, sink, target.topic or "", report)
        yield writer
        writer.finish()
    finally:
        influx.close()
        if sink is not None:
            sink.close(10)


class Fetcher:
    """Each symbol's candidates from the providers, one step (one progress tick) at a time."""

    def __init__(self, data_link: NasdaqDataLink, alpaca: BarClient, index_symbol: str) -> None:
        self.data_link = data_link
        self.alpaca = alpaca
        self.index_symbol = index_symbol

    def steps(self, symbol: str) -> list[str]:
        first = "MULTPL" if symbol == self.index_symbol else ANNOUNCEMENTS_TABLE
        return [first, "corporate actions"]

    def fetch(self, step: str, symbol: str, request: SymbolsRequest) -> list[Candidate]:
        start, end = request.start, request.end
        if step == "MULTPL":
            series = {code: self.data_link.dataset(code, start, end) for code in INDEX_DATASETS}
            return index_candidates(symbol, series, request.publication_lag_days)
        if step == ANNOUNCEMENTS_TABLE:
            filters = {"ticker": symbol, "act_rpt_date.gte": start.isoformat(),
                       "act_rpt_date.lte": end.isoformat(),
                       "qopts.columns": ",".join(ANNOUNCEMENT_COLUMNS)}  # fmt: skip
            return announcement_candidates(symbol, self.data_link.datatable(step, filters))
        try:
            actions = self.alpaca.corporate_actions(symbol, start, end)
        except ValueError as exc:
            raise SymbolFailed(str(exc)) from None
        return corporate_action_candidates(symbol, actions)

    def source_name(self, step: str) -> str:
        if step == "corporate actions":
            return self.alpaca.source.name
        return self.data_link.source.name


def _known(candidates: list[Candidate], now_ns: int, report: Report) -> list[Candidate]:
    """Providers' values not valid yet (a publication lag past today) are left for a later run."""
    known = [c for c in candidates if c.record is None or c.record.get("t_ns", 0) <= now_ns]
    report.not_yet_valid += len(candidates) - len(known)
    return known


def gather_symbols(
    settings: Settings,
    target: Target,
    request: SymbolsRequest,
    progress: ProgressFactory = terminal_progress,
) -> Report:
    """The fundamentals of ``request.symbols``; a symbol's failed step is in the report (the
    others go on). Unreachable or refusing sources stop the run with a ``UserError``."""
    report = Report()
    data_link = NasdaqDataLink.from_settings(settings)
    alpaca = BarClient.from_settings(settings)
    fetcher = Fetcher(data_link, alpaca, settings.index_symbol)
    sources = dict.fromkeys([data_link.source.name, alpaca.source.name])
    log.info(
        "gathering fundamentals of %d symbols from %s into InfluxDB bucket %s%s",
        len(request.symbols), " and ".join(sources), target.bucket,
        f" and Kafka topic {target.topic}" if target.topic else "",
    )  # fmt: skip
    try:
        with opened_writer(settings, target, report) as writer:
            steps = {symbol: len(fetcher.steps(symbol)) for symbol in request.symbols}
            with progress(steps) as shown:
                for symbol in request.symbols:
                    _gather_symbol(fetcher, writer, symbol, request, shown)
    except SourceUnavailable as exc:
        raise UserError(str(exc), exc.hint) from None
    finally:
        data_link.close()
    report.retries = data_link.retries + alpaca.retries
    return report


def _gather_symbol(
    fetcher: Fetcher, writer: Writer, symbol: str, request: SymbolsRequest, shown: Progress
) -> None:
    failures = []
    written = 0
    for step in fetcher.steps(symbol):
        try:
            candidates = fetcher.fetch(step, symbol, request)
        except SymbolFailed as exc:
            text = str(exc)
            failures.append(text if text.startswith(step) else f"{step}: {text}")
            shown.advance(symbol, 0)
            continue
        known = _known(candidates, writer.now_ns, writer.report)
        count = writer.take(known, fetcher.source_name(step))
        written += count
        shown.advance(symbol, count)
    if failures:
        writer.report.failed[symbol] = "; ".join(failures)
    elif not written:
        writer.report.empty.append(symbol)
    note = "failed" if failures else "done" if written else "nothing found"
    shown.finish(symbol, note, failed=bool(failures))


def gather_file(
    settings: Settings, target: Target, path: Path, progress: ProgressFactory = terminal_progress
) -> Report:
    """The rows of a user's CSV or Parquet file (``connectors.fundamentals.files``)."""
    candidates = file_candidates(path)
    report = Report()
    with opened_writer(settings, target, report) as writer, progress({path.name: 1}) as shown:
        shown.advance(path.name, writer.take(candidates, f"file {path}"))
        shown.finish(path.name, "done")
    return report


def summary(report: Report, target: Target) -> list[str]:
    """The lines that say what was written, per symbol and fact."""
    lines = [f"{symbol:<12} {fact:<22} {count:>7,}"
             for (symbol, fact), count in sorted(report.written.items())]  # fmt: skip
    where = f"InfluxDB bucket {target.bucket}" + (
        f" and Kafka topic {target.topic}" if target.topic else ""
    )
    lines.append(f"wrote {report.total:,} fundamentals into {where}")
    if report.empty:
        lines.append(f"found nothing for {', '.join(report.empty)} (an unknown symbol, or "
                     "nothing in that range)")  # fmt: skip
    if report.not_yet_valid:
        lines.append(f"left {report.not_yet_valid} not valid before now for a later run")
    if report.rejected:
        dlq = f" (sent to {dead_letter_topic(target.topic)})" if target.topic else ""
        lines.append(f"rejected {len(report.rejected)}{dlq}:")
        lines += [f"  {where}: {reason}" for where, reason in report.rejected]
    return lines


def raise_problems(report: Report, rows: bool = False) -> None:
    """A ``UserError`` for failed symbols, or (``rows``: a user's file) rejected rows."""
    if report.failed:
        lines = "\n".join(f"  {symbol}: {reason}" for symbol, reason in report.failed.items())
        raise UserError(
            f"{len(report.failed)} symbol{'s' if len(report.failed) > 1 else ''} failed (the "
            f"rest was written):\n{lines}",
            "check the symbol names and the range, then run again: what was written is "
            "overwritten, not duplicated",
        )
    if rows and report.rejected:
        total = report.total + len(report.rejected)
        raise UserError(
            f"{len(report.rejected)} of {total} rows were rejected (the others were written); "
            "see the reasons above",
            "fix those rows and gather the file again: rows already written are overwritten",
        )
