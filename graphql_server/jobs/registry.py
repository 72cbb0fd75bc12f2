"""Long operations the GraphQL server runs for its clients (backfill, append, delete and
recompute): each a job with an id, run on a worker thread, whose state clients poll with
``job(id)`` or watch with a subscription.

Jobs live in the server's memory: a restart forgets them (the data they wrote stays). The
registry keeps the last ``keep`` finished jobs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum

from streamlines.errors import UserError

log = logging.getLogger(__name__)


class JobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, but some symbols failed (the others were written)
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.PARTIAL, JobState.FAILED)


@dataclass(frozen=True)
class JobSnapshot:
    """A job's state at one moment (immutable: safe to hand to any thread)."""

    id: str
    kind: str
    state: JobState
    created_at: float
    description: str
    phase: str = "queued"
    done: int = 0  # units of work done (symbols, or steps)
    total: int = 0
    items: int = 0  # bars gathered, deleted or recomputed so far
    errors: tuple[str, ...] = ()
    started_at: float | None = None
    finished_at: float | None = None
    result: dict[str, int | float | str] = field(default_factory=dict)


class JobHandle:
    """What a running job uses to report its progress; every call publishes a new snapshot."""

    def __init__(self, registry: JobRegistry, job_id: str) -> None:
        self._registry = registry
        self.id = job_id

    def update(self, **changes: object) -> None:
        self._registry._update(self.id, **changes)

    def add_items(self, count: int) -> None:
        self._registry._update(self.id, add_items=count)

    def error(self, message: str) -> None:
        self._registry._update(self.id, add_error=message)

    @property
    def snapshot(self) -> JobSnapshot:
        return self._registry.get(self.id)  # type: ignore[return-value]


Work = Callable[[JobHandle], JobState | None]


class JobRegistry:
    """Runs jobs on ``workers`` threads; each job's snapshots go to its watchers on the loop."""

    def __init__(self, workers: int = 2, keep: int = 1000) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, JobSnapshot] = OrderedDict()
        # Each watcher's event and the loop it waits on (set from the job's thread).
        self._watchers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="job")
        self._keep = keep

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:12]

    def start(
        self, kind: str, description: str, work: Work, job_id: str | None = None
    ) -> JobSnapshot:
        """Queue ``work`` and return its job at once (under ``job_id`` when the caller had to
        name it beforehand). ``work`` reports through its handle and returns the final state
        (None: succeeded, or partial if it reported errors); an exception fails the job with
        the exception's message (a UserError's hint included)."""
        job = JobSnapshot(
            id=job_id or self.new_id(),
            kind=kind,
            state=JobState.QUEUED,
            created_at=time.time(),
            description=description,
        )
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        log.info("job %s (%s) queued: %s", job.id, kind, description)
        self._pool.submit(self._run, job.id, work)
        return job

    def get(self, job_id: str) -> JobSnapshot | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self, limit: int) -> list[JobSnapshot]:
        with self._lock:
            return list(reversed(self._jobs.values()))[:limit]

    async def watch(self, job_id: str) -> AsyncIterator[JobSnapshot]:
        """The job's current snapshot, then each change (changes in between coalesce), until
        it has finished."""
        changed = asyncio.Event()
        watcher = (asyncio.get_running_loop(), changed)
        with self._lock:
            self._watchers.setdefault(job_id, set()).add(watcher)
        last = None
        try:
            while True:
                changed.clear()
                job = self.get(job_id)
                if job is None:
                    return
                if job != last:
                    yield job
                    last = job
                if job.state.finished:
                    return
                await changed.wait()
        finally:
            with self._lock:
                self._watchers.get(job_id, set()).discard(watcher)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job_id: str, work: Work) -> None:
        handle = JobHandle(self, job_id)
        self._update(job_id, state=JobState.RUNNING, phase="running", started_at=time.time())
        try:
            final = work(handle)
        except UserError as exc:
            message = exc.args[0] if not exc.hint else f"{exc.args[0]} (fix: {exc.hint})"
            self._finish(job_id, JobState.FAILED, message)
            return
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self._finish(job_id, JobState.FAILED, f"internal error ({type(exc).__name__}): {exc}")
            return
        if final is None:
            final = JobState.PARTIAL if handle.snapshot.errors else JobState.SUCCEEDED
        self._finish(job_id, final, None)

    def _finish(self, job_id: str, state: JobState, error: str | None) -> None:
        self._update(job_id, state=state, phase=state.value, finished_at=time.time(),
                      add_error=error)  # fmt: skip
        job = self.get(job_id)
        if job is not None:
            log.info(
                "job %s (%s) %s after %.1f s: %d items%s",
                job.id, job.kind, state.value, (job.finished_at or 0) - (job.started_at or 0),
                job.items, f", errors: {'; '.join(job.errors)}" if job.errors else "",
            )  # fmt: skip

    def _update(self, job_id: str, **changes: object) -> None:
        add_items = changes.pop("add_items", 0)
        add_error = changes.pop("add_error", None)
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            job = replace(job, **changes)  # type: ignore[arg-type]
            if add_items:
                job = replace(job, items=job.items + int(add_items))  # type: ignore[call-overload]
            if add_error:
                job = replace(job, errors=(*job.errors, str(add_error)))
            self._jobs[job_id] = job
        self._notify(job_id)

    def _notify(self, job_id: str) -> None:
        with self._lock:
            watchers = list(self._watchers.get(job_id, ()))
        for loop, event in watchers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.state.finished]
        for job_id in finished[: max(0, len(self._jobs) - self._keep)]:
            del self._jobs[job_id]
            self._watchers.pop(job_id, None)
