"""Long operations the GraphQL server runs for its clients (backfill, append, delete and
recompute): each a job with an id and an owner (the user whose key started it), run on a worker
thread, whose state clients poll with ``job(id)`` or watch with a subscription.

The registry keeps the jobs in memory (every unfinished one, and the last ``keep`` finished
ones). Given a ``JobStore``, it also writes each job to the metadata database (through a
``JobJournal``) and reads the jobs it no longer holds from there, so that a restart loses none:
``mark_interrupted`` marks the jobs a stopped server left queued or running.
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
from dataclasses import replace

from graphql_server.jobs.journal import JobJournal
from graphql_server.jobs.snapshot import JobSnapshot, JobState, from_stored
from graphql_server.limits import job_slots_error
from streamlines.errors import UserError
from streamlines.metadata.jobs import JobStore

__all__ = ["JobHandle", "JobRegistry", "JobSnapshot", "JobState", "Work"]

log = logging.getLogger(__name__)

INTERRUPTED_WHY = "the server stopped while this job ran; start it again"


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
        return self._registry._current(self.id)  # type: ignore[return-value]


Work = Callable[[JobHandle], JobState | None]


class JobRegistry:
    """Runs jobs on ``workers`` threads; each job's snapshots go to its watchers on the loop,
    and to ``store`` (when given) at each change of state and at most once per
    ``progress_interval`` seconds of progress. An owner may have ``max_running`` jobs queued
    or running at once (None: any number)."""

    def __init__(
        self,
        workers: int = 2,
        keep: int = 1000,
        store: JobStore | None = None,
        progress_interval: float = 1.0,
        max_running: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, JobSnapshot] = OrderedDict()
        # Each watcher's event and the loop it waits on (set from the job's thread).
        self._watchers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="job")
        self._keep = keep
        self._store = store
        self._journal = None if store is None else JobJournal(store, progress_interval)
        self._max_running = max_running

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:12]

    def mark_interrupted(self) -> int:
        """Mark the stored jobs left queued or running (by a server that stopped) as
        interrupted; how many. Call it before this registry starts any job."""
        if self._store is None:
            return 0
        count = self._store.mark_interrupted(INTERRUPTED_WHY)
        log.log(logging.WARNING if count else logging.INFO,
                "%d job(s) left queued or running by the last server marked interrupted",
                count)  # fmt: skip
        return count

    def start(
        self,
        kind: str,
        description: str,
        work: Work,
        job_id: str | None = None,
        owner_id: int | None = None,
    ) -> JobSnapshot:
        """Queue ``work`` for ``owner_id`` and return its job at once (under ``job_id`` when
        the caller had to name it beforehand). ``work`` reports through its handle and returns
        the final state (None: succeeded, or partial if it reported errors); an exception fails
        the job with the exception's message (a UserError's hint included). Refused (a
        QueryError) when ``owner_id`` already has ``max_running`` jobs queued or running."""
        job = JobSnapshot(
            id=job_id or self.new_id(),
            kind=kind,
            state=JobState.QUEUED,
            created_at=time.time(),
            description=description,
            owner_id=owner_id,
        )
        with self._lock:
            self._check_room(owner_id)
            self._jobs[job.id] = job
            self._forget_old()
        if self._journal is not None:
            self._journal.record(job, state_changed=True)
        log.info("job %s (%s) queued: %s", job.id, kind, description)
        self._pool.submit(self._run, job.id, work)
        return job

    def get(self, job_id: str) -> JobSnapshot | None:
        """The job, from memory or else from the store (it may query the database)."""
        job = self._current(job_id)
        if job is not None or self._store is None:
            return job
        stored = self._store.get(job_id)
        return None if stored is None else from_stored(stored)

    def recent(self, limit: int, owner_id: int | None = None) -> list[JobSnapshot]:
        """The newest ``limit`` jobs, newest first: of ``owner_id``, or everyone's when None
        (it may query the database)."""
        with self._lock:
            held = [j for j in reversed(self._jobs.values())
                    if owner_id is None or j.owner_id == owner_id]  # fmt: skip
        if self._store is None:
            return held[:limit]
        known = {j.id for j in held}
        stored = [from_stored(j) for j in self._store.recent(limit, owner_id)]
        jobs = held + [j for j in stored if j.id not in known]
        # a stable sort: jobs created in the same instant keep the memory's order
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)[:limit]

    def running_count(self, owner_id: int) -> int:
        """How many of ``owner_id``'s jobs are queued or running."""
        with self._lock:
            return self._running_count(owner_id)

    def check_room(self, owner_id: int) -> None:
        """Refuse (a QueryError) when ``owner_id`` may start no job now: for a caller that does
        work of its own before ``start`` (the check in ``start`` is the one that counts)."""
        with self._lock:
            self._check_room(owner_id)

    def _check_room(self, owner_id: int | None) -> None:
        if owner_id is None or self._max_running is None:
            return
        error = job_slots_error(self._running_count(owner_id), self._max_running)
        if error is not None:
            raise error

    def _running_count(self, owner_id: int) -> int:
        return sum(1 for j in self._jobs.values()
                   if j.owner_id == owner_id and not j.state.finished)  # fmt: skip

    async def watch(self, job_id: str) -> AsyncIterator[JobSnapshot]:
        """The job's current snapshot, then each change (changes in between coalesce), until
        it has finished. A job only the store holds has finished: its one snapshot."""
        if self._current(job_id) is None:
            stored = await asyncio.to_thread(self.get, job_id)
            if stored is not None:
                yield stored
            return
        changed = asyncio.Event()
        watcher = (asyncio.get_running_loop(), changed)
        with self._lock:
            self._watchers.setdefault(job_id, set()).add(watcher)
        last = None
        try:
            while True:
                changed.clear()
                job = self._current(job_id)
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
        """Stop taking jobs and write what the journal holds (a job still running when the
        server stops writes its end itself, or is marked interrupted at the next start)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._journal is not None:
            self._journal.close()

    def flush(self) -> None:
        """Wait until the store has every change so far (for tests and tools)."""
        if self._journal is not None:
            self._journal.flush()

    def _current(self, job_id: str) -> JobSnapshot | None:
        with self._lock:
            return self._jobs.get(job_id)

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
        job = self._current(job_id)
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
            before = self._jobs.get(job_id)
            if before is None:
                return
            job = replace(before, **changes)  # type: ignore[arg-type]
            if add_items:
                job = replace(job, items=job.items + int(add_items))  # type: ignore[call-overload]
            if add_error:
                job = replace(job, errors=(*job.errors, str(add_error)))
            self._jobs[job_id] = job
        if self._journal is not None:
            self._journal.record(job, state_changed=job.state is not before.state)
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
