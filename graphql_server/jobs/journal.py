"""Writes the registry's job snapshots to the metadata database (``JobStore``), so that a restart
loses no job: a change of state (queued, running, finished) at once, progress at most once per
``interval`` per job. Snapshots waiting to be written coalesce (the newest wins), so a burst of
progress is one write and nothing is lost but the steps in between.

The writes happen on a thread of the journal's own: neither the event loop (which starts jobs)
nor a job's thread waits on the database, and the registry's lock is never held across one.
After ``close`` (the server is stopping) a job that still runs writes its end itself.
"""

from __future__ import annotations

import logging
import threading
import time

from graphql_server.jobs.snapshot import JobSnapshot, to_stored
from streamlines.metadata.jobs import JobStore

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 10.0


class JobJournal:
    def __init__(self, store: JobStore, interval: float = 1.0) -> None:
        self._store = store
        self._interval = interval
        self._cond = threading.Condition()
        self._pending: dict[str, JobSnapshot] = {}  # the newest unwritten snapshot of each job
        self._urgent: set[str] = set()  # jobs whose pending snapshot changed state
        self._written_at: dict[str, float] = {}  # monotonic time of each job's last write
        self._writing = False
        self._closing = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="job-journal", daemon=True)
        self._thread.start()

    def record(self, job: JobSnapshot, state_changed: bool) -> None:
        with self._cond:
            if not self._stopped:
                self._pending[job.id] = job
                if state_changed:
                    self._urgent.add(job.id)
                self._cond.notify_all()
                return
        if state_changed:  # the journal has stopped: the job's own thread writes its end
            self._write(job)

    def flush(self, timeout: float = CLOSE_TIMEOUT_S) -> bool:
        """Wait until every snapshot recorded so far is written; False on timeout."""
        with self._cond:
            self._urgent.update(self._pending)
            self._cond.notify_all()
            return self._cond.wait_for(
                lambda: not self._pending and not self._writing, timeout=timeout
            )

    def close(self) -> None:
        """Write what is pending, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(CLOSE_TIMEOUT_S)

    def _run(self) -> None:
        while True:
            with self._cond:
                due = self._wait_for_due()
                if due is None:
                    self._stopped = True
                    self._cond.notify_all()
                    return
                self._writing = True
            for job in due:
                self._write(job)
            with self._cond:
                self._writing = False
                self._cond.notify_all()

    def _wait_for_due(self) -> list[JobSnapshot] | None:
        """The snapshots to write now (None: closing and nothing left); call with the lock."""
        while True:
            now = time.monotonic()
            wanted = [
                job_id
                for job_id in self._pending
                if self._closing or job_id in self._urgent or self._due(job_id, now)
            ]
            if wanted:
                return [self._take(job_id, now) for job_id in wanted]
            if self._closing:
                return None
            waits = [self._written_at[j] + self._interval - now for j in self._pending]
            self._cond.wait(max(0.0, min(waits)) if waits else None)

    def _due(self, job_id: str, now: float) -> bool:
        last = self._written_at.get(job_id)
        return last is None or now - last >= self._interval

    def _take(self, job_id: str, now: float) -> JobSnapshot:
        job = self._pending.pop(job_id)
        self._urgent.discard(job_id)
        if job.state.finished:
            self._written_at.pop(job_id, None)
        else:
            self._written_at[job_id] = now
        return job

    def _write(self, job: JobSnapshot) -> None:
        try:
            self._store.save(to_stored(job))
        except Exception as exc:  # a job must not fail because its record could not be kept
            log.warning("could not record job %s (%s) in the metadata database: %s",
                        job.id, job.state.value, exc)  # fmt: skip
