"""A gather spread over several processes (``streamlines gather --processes N``).

One gather process is CPU-bound at about one core (alpaca-py's parsing, the bar model, line
protocol and the Kafka producer's callbacks all run under one GIL), so a backfill of many symbols
splits them round-robin over N child processes (``spawn``: no threads of the parent are
copied), each a whole gather of its share with its own HTTP sessions, InfluxDB writer and
Kafka producer. Children report progress events and their report over one queue; the parent
drives the progress display (or a server job's progress) and merges the reports. A symbol
stays in one process, so its bars keep their order on the topic.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
from dataclasses import dataclass, field, replace
from multiprocessing.process import BaseProcess
from typing import Any

from connectors.gather.run import (
    Job,
    Progress,
    ProgressFactory,
    Report,
    Request,
    SymbolResult,
    run_here,
)
from streamlines.errors import UserError

log = logging.getLogger(__name__)


class _QueueProgress:
    """A child's progress, sent to the parent."""

    def __init__(self, events: Any) -> None:
        self._events = events

    def __enter__(self) -> _QueueProgress:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def advance(self, symbol: str, bars: int) -> None:
        self._events.put(("advance", symbol, bars))

    def finish(self, symbol: str, note: str, failed: bool = False) -> None:
        self._events.put(("finish", symbol, note, failed))


def _child(index: int, request: Request, events: Any) -> None:
    try:
        report = run_here(request, progress=lambda _windows: _QueueProgress(events))
        events.put(("report", index, report))
    except UserError as exc:
        events.put(("error", index, exc.args[0], exc.hint))
    except BaseException as exc:  # reported to the parent, which fails the run with it
        events.put(("error", index, f"{type(exc).__name__}: {exc}", None))


def split(jobs: list[Job], processes: int) -> list[list[Job]]:
    """Round-robin, so that each process gets symbols from all over the list."""
    groups = [jobs[k::processes] for k in range(min(processes, len(jobs)))]
    return [g for g in groups if g]


@dataclass
class _Outcome:
    """What the children have reported so far."""

    children: int
    reports: dict[int, Report] = field(default_factory=dict)
    errors: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.reports) + len(self.errors) >= self.children

    def take(self, event: tuple[Any, ...], shown: Progress) -> None:
        kind = event[0]
        if kind == "advance":
            shown.advance(event[1], event[2])
        elif kind == "finish":
            shown.finish(event[1], event[2], failed=event[3])
        elif kind == "report":
            self.reports[event[1]] = event[2]
        else:
            self.errors.append((event[2], event[3]))

    def report(self) -> Report:
        if self.errors:
            message, hint = self.errors[0]
            raise UserError(message, hint)
        return merge(list(self.reports.values()))


def _children(request: Request, processes: int, context: Any, events: Any) -> list[BaseProcess]:
    groups = split(request.jobs, processes)
    # Each process fetches `concurrency` symbols at once: the total stays what was asked for.
    each = max(1, request.concurrency // len(groups))
    return [
        context.Process(
            target=_child,
            args=(k, replace(request, jobs=group, concurrency=each), events),
            name=f"gather-{k}",
            daemon=True,
        )
        for k, group in enumerate(groups)
    ]


def _collect(children: list[BaseProcess], events: Any, shown: Progress) -> _Outcome:
    outcome = _Outcome(len(children))
    while not outcome.complete:
        try:
            event = events.get(timeout=1.0)
        except queue.Empty:
            if any(c.exitcode not in (None, 0) for c in children):
                raise UserError(
                    "a gather process died without a report", "see the log above"
                ) from None
            continue
        outcome.take(event, shown)
    return outcome


def run_in_processes(request: Request, processes: int, progress: ProgressFactory) -> Report:
    """The gather of ``request`` with its symbols split over ``processes`` child processes."""
    windows = {job.symbol: len(job.windows(request.timeframe)) for job in request.jobs}
    context = mp.get_context("spawn")
    events = context.Queue()
    children = _children(request, processes, context, events)
    log.info("gathering %d symbols in %d processes", len(request.jobs), len(children))
    with progress(windows) as shown:
        for child in children:
            child.start()
        try:
            outcome = _collect(children, events, shown)
        finally:
            for child in children:
                child.join(timeout=60)
                if child.is_alive():
                    child.terminate()
    return outcome.report()


def merge(reports: list[Report]) -> Report:
    results: dict[str, SymbolResult] = {}
    for report in reports:
        results.update(report.results)
    return Report(
        results,
        points=sum(r.points for r in reports),
        records=sum(r.records for r in reports),
        dead_lettered=sum(r.dead_lettered for r in reports),
        retries=sum(r.retries for r in reports),
        seconds=max((r.seconds for r in reports), default=0.0),
    )
