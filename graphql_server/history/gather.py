"""``backfill`` and ``appendLatest``: the gather of ``streamlines gather`` (and ``--daily``) as a
server job, into the market bucket (STREAMLINES_GATHER_BUCKET) and the history topic
(STREAMLINES_GATHER_TOPIC), with its progress reported to the job."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime

from connectors.gather.service import Job, append_jobs, range_jobs, run_jobs
from graphql_server.jobs.registry import JobHandle, JobState, Work
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.settings import Settings


class JobProgress:
    """Gather progress (``connectors.gather.run.Progress``) into a job: symbols done of all,
    bars so far, one error per failed symbol."""

    def __init__(self, handle: JobHandle, windows: dict[str, int]) -> None:
        self._handle = handle
        self._done = 0
        handle.update(phase="gathering", total=len(windows), done=0)

    def advance(self, symbol: str, bars: int) -> None:
        if bars:
            self._handle.add_items(bars)

    def finish(self, symbol: str, note: str, failed: bool = False) -> None:
        self._done += 1
        self._handle.update(done=self._done)
        if failed:
            self._handle.error(f"{symbol}: {note.removeprefix('failed: ')}")


def _gather(
    settings: Settings, handle: JobHandle, jobs: list[Job], timeframe: BarTimeframe
) -> JobState:
    report = run_jobs(
        settings,
        jobs,
        timeframe,
        settings.gather_bucket,
        settings.gather_topic,
        settings.gather_concurrency,
        # a job needs no terminal set up or restored around the run: a plain context
        progress=lambda windows: nullcontext(JobProgress(handle, windows)),
        processes=settings.gather_processes,
    )
    handle.update(
        result={
            "bars": report.bars,
            "points_written": report.points,
            "records_sent": report.records,
            "symbols_failed": len(report.failed),
            "seconds": round(report.seconds, 3),
        }
    )
    if len(report.failed) == len(jobs):
        return JobState.FAILED
    return JobState.PARTIAL if report.failed else JobState.SUCCEEDED


def backfill(
    settings: Settings,
    symbols: list[str],
    start: datetime,
    end: datetime,
    timeframe: BarTimeframe,
) -> Work:
    """Bars of ``symbols`` starting in [start, end], as ``streamlines gather`` fetches them."""

    def work(handle: JobHandle) -> JobState:
        return _gather(settings, handle, range_jobs(symbols, start, end), timeframe)

    return work


def append_latest(settings: Settings, symbols: list[str], timeframe: BarTimeframe) -> Work:
    """The bars completed since each symbol's last stored one (all tracked symbols when
    ``symbols`` is empty), as ``streamlines gather --daily``."""

    def work(handle: JobHandle) -> JobState:
        handle.update(phase="finding the last stored bars")
        jobs = append_jobs(settings, settings.gather_bucket, timeframe, symbols, datetime.now(UTC))
        return _gather(settings, handle, jobs, timeframe)

    return work
