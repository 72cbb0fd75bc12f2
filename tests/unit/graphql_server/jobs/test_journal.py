"""The journal writes each change of state at once, progress at most once per interval (the
newest of it, even when no other change follows), and everything pending when it closes."""

from __future__ import annotations

import time
from dataclasses import replace

from graphql_server.jobs.journal import JobJournal
from graphql_server.jobs.snapshot import JobSnapshot, JobState, from_stored
from streamlines.metadata.database import Database
from streamlines.metadata.jobs import JobStore, StoredJob


class CountingStore(JobStore):
    """The real store, counting its writes."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.saved: list[StoredJob] = []

    def save(self, job: StoredJob) -> None:
        self.saved.append(job)
        super().save(job)


def queued(job_id: str = "j1") -> JobSnapshot:
    return JobSnapshot(id=job_id, kind="k", state=JobState.QUEUED, created_at=time.time(),
                       description="d", owner_id=1)  # fmt: skip


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_burst_of_progress_is_one_write_and_the_end_is_always_written(database):
    store = CountingStore(database)
    journal = JobJournal(store, interval=60)
    job = queued()
    journal.record(job, state_changed=True)
    running = replace(job, state=JobState.RUNNING, started_at=time.time())
    journal.record(running, state_changed=True)
    wait_until(lambda: getattr(store.get("j1"), "state", None) == "running")
    for done in range(1, 201):
        journal.record(replace(running, done=done, total=200), state_changed=False)
    journal.record(replace(running, state=JobState.SUCCEEDED, done=200, total=200,
                           finished_at=time.time()), state_changed=True)  # fmt: skip
    journal.flush()
    # queued and running (maybe as one), none of the 200 steps within the minute, the end
    assert 2 <= len(store.saved) <= 3, [(s.state, s.done) for s in store.saved]
    stored = store.get("j1")
    assert stored is not None
    assert (stored.state, stored.done, stored.total) == ("succeeded", 200, 200)
    journal.close()


def test_progress_is_written_once_its_interval_has_passed_even_with_no_change_after_it(database):
    store = CountingStore(database)
    journal = JobJournal(store, interval=0.5)
    running = replace(queued(), state=JobState.RUNNING)
    journal.record(running, state_changed=True)
    wait_until(lambda: len(store.saved) == 1)
    journal.record(replace(running, done=1, phase="gathering"), state_changed=False)
    journal.record(replace(running, done=2, phase="gathering"), state_changed=False)
    wait_until(lambda: len(store.saved) == 2)
    time.sleep(0.6)
    assert len(store.saved) == 2  # the two steps coalesced into one write
    stored = store.get("j1")
    assert stored is not None
    assert (stored.state, stored.done, stored.phase) == ("running", 2, "gathering")
    journal.close()


def test_closing_writes_what_is_pending_and_then_the_caller_writes_state_changes(database):
    store = CountingStore(database)
    journal = JobJournal(store, interval=60)
    running = replace(queued(), state=JobState.RUNNING)
    journal.record(running, state_changed=True)
    wait_until(lambda: len(store.saved) == 1)
    journal.record(replace(running, done=5), state_changed=False)
    journal.close()
    assert from_stored(store.saved[-1]).done == 5
    # a job still running while the server stops: its end is written on its own thread
    journal.record(replace(running, done=6), state_changed=False)
    assert len(store.saved) == 2
    journal.record(replace(running, state=JobState.FAILED, done=6), state_changed=True)
    assert store.get("j1").state == "failed"  # type: ignore[union-attr]


def test_a_database_error_is_logged_and_the_journal_goes_on(database, caplog):
    class BrokenStore(JobStore):
        def save(self, job: StoredJob) -> None:
            raise RuntimeError("disk full")

    journal = JobJournal(BrokenStore(database), interval=0)
    journal.record(queued(), state_changed=True)
    assert journal.flush()
    journal.record(queued("j2"), state_changed=True)
    assert journal.flush()
    journal.close()
    assert "could not record job j1" in caplog.text
    assert "could not record job j2" in caplog.text
