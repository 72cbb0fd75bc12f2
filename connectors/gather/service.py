"""Gather historical bars into InfluxDB (and Kafka): what ``streamlines gather`` and the GraphQL
``backfill`` / ``appendLatest`` jobs run.

``range_jobs`` and ``append_jobs`` say what to fetch, ``run_jobs`` fetches and writes it (in
this process, or split over several: ``connectors.gather.processes``), and ``gather_range`` /
``gather_latest`` / ``gather_every_day`` are the command's three modes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dtime

from connectors.gather.daily import (
    RECENT_DATA_DELAY,
    daily_jobs,
    last_bar_times,
    run_every_day,
)
from connectors.gather.processes import run_in_processes
from connectors.gather.progress import GatherProgress
from connectors.gather.run import Job, ProgressFactory, Report, Request, open_kafka, run_here
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError
from streamlines.settings import Settings

__all__ = [
    "Job",
    "Report",
    "Target",
    "append_jobs",
    "gather_every_day",
    "gather_latest",
    "gather_range",
    "latest_end",
    "raise_failures",
    "range_jobs",
    "run_jobs",
]


def range_jobs(symbols: list[str], start: datetime, end: datetime) -> list[Job]:
    """One job per symbol for the bars starting in [start, end]."""
    empty = (
        f"no bars from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC: an unknown "
        "symbol, or no trading then"
    )
    return [Job(symbol, start, end, if_empty=empty) for symbol in symbols]


def append_jobs(
    settings: Settings, bucket: str, timeframe: BarTimeframe, symbols: list[str], now: datetime
) -> list[Job]:
    """The jobs of one ``--daily`` run: every tracked symbol (or just ``symbols``), from just
    after its last stored bar up to ``now``."""
    stored = last_bar_times(settings, bucket, timeframe)
    jobs = daily_jobs(stored, symbols or None, timeframe, now)
    if not jobs:
        raise UserError(
            f"no symbol has {timeframe.value} bars in bucket {bucket!r} yet",
            "gather some history first (`streamlines gather --symbols GOOG --start "
            "2024-01-02`), or name the symbols",
        )
    return jobs


def latest_end(now: datetime) -> datetime:
    """The latest bar start a request may ask for at ``now`` (the free plan refuses younger
    data)."""
    return now - RECENT_DATA_DELAY


def run_jobs(
    settings: Settings,
    jobs: list[Job],
    timeframe: BarTimeframe,
    bucket: str,
    topic: str | None,
    concurrency: int,
    progress: ProgressFactory | None = None,
    processes: int = 1,
) -> Report:
    """Gather ``jobs`` into ``bucket`` (and ``topic`` unless None); failures are in the report.
    Progress goes to the terminal's bars, or to ``progress``. With ``processes`` > 1 the symbols
    are split over that many processes (``connectors.gather.processes``)."""
    request = Request(settings, jobs, timeframe, bucket, topic, concurrency)
    if processes <= 1 or len(jobs) <= 1:
        return run_here(request, progress)
    if topic:
        open_kafka(settings, topic).close(10)  # the topics exist before the children produce
    return run_in_processes(request, processes, progress or GatherProgress)


def raise_failures(report: Report, total: int) -> None:
    """A ``UserError`` listing the symbols that failed, if any did."""
    failed = report.failed
    if not failed:
        return
    lines = "\n".join(f"  {symbol}: {reason}" for symbol, reason in failed.items())
    raise UserError(
        f"{len(failed)} of {total} symbols failed (the others were written):\n{lines}",
        "check the symbol names and the range, then run again: points already written are "
        "overwritten, not duplicated",
    )


@dataclass(frozen=True)
class Target:
    """Where and how a command's gather writes: bucket, topic (None: InfluxDB only), symbols
    fetched at once, processes."""

    bucket: str
    topic: str | None
    concurrency: int
    processes: int


def _run_checked(
    settings: Settings, jobs: list[Job], timeframe: BarTimeframe, target: Target
) -> None:
    report = run_jobs(
        settings, jobs, timeframe, target.bucket, target.topic, target.concurrency,
        processes=target.processes,
    )  # fmt: skip
    raise_failures(report, len(jobs))


def gather_range(
    settings: Settings,
    target: Target,
    timeframe: BarTimeframe,
    symbols: list[str],
    start: datetime,
    end: datetime,
) -> None:
    """The bars of ``symbols`` starting in [start, end]; a ``UserError`` if any symbol failed."""
    _run_checked(settings, range_jobs(symbols, start, end), timeframe, target)


def gather_latest(
    settings: Settings,
    target: Target,
    timeframe: BarTimeframe,
    symbols: list[str],
    now: datetime | None = None,
) -> None:
    """The bars completed since each tracked symbol's last stored one (or only ``symbols``'),
    up to ``now`` (default: the current time)."""
    moment = now or datetime.now(UTC)
    jobs = append_jobs(settings, target.bucket, timeframe, symbols, moment)
    _run_checked(settings, jobs, timeframe, target)


def gather_every_day(
    settings: Settings,
    target: Target,
    timeframe: BarTimeframe,
    symbols: list[str],
    at: dtime,
    now: datetime | None = None,
) -> None:
    """``gather_latest`` every day at ``at`` (UTC), until the process is stopped."""
    run_every_day(
        lambda: gather_latest(settings, target, timeframe, symbols, now), at, threading.Event()
    )
