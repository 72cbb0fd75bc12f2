"""The server's jobs in the metadata database, on SQLite and PostgreSQL: saved and read back
whole, the newest first, and those left queued or running by a stopped server marked
interrupted (the finished ones untouched)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from streamlines.metadata.database import open_database
from streamlines.metadata.jobs import JobStore, StoredJob
from streamlines.settings import Settings

START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def _job(job_id: str, state: str = "succeeded", minutes: int = 0,
         owner_id: int | None = None) -> StoredJob:  # fmt: skip
    created = START + timedelta(minutes=minutes)
    return StoredJob(
        id=job_id, owner_id=owner_id, kind="backfill", description=f"backfill {job_id}",
        state=state, phase="writing" if state == "running" else state, done=3, total=5, items=120,
        created_at=created, errors=("AAPL: no bars",),
        result={"rows": 120, "symbols": ["AAPL", "MSFT"]},
        started_at=created + timedelta(seconds=1),
        finished_at=None if state in ("queued", "running") else created + timedelta(minutes=1),
    )  # fmt: skip


@pytest.fixture
def jobs(database) -> JobStore:
    return JobStore(database)


def test_a_saved_job_comes_back_whole(jobs, people):
    job = _job("j1", owner_id=people.alice.user_id)
    jobs.save(job)
    assert jobs.get("j1") == job
    assert jobs.get("missing") is None


def test_saving_again_records_the_jobs_newest_state(jobs):
    jobs.save(_job("j1", "running"))
    done = replace(_job("j1"), done=5, errors=(), result={"rows": 200})
    jobs.save(done)
    assert jobs.get("j1") == done
    assert len(jobs.recent(10)) == 1


def test_recent_is_newest_first_and_limited(jobs):
    for job_id, minutes in (("a", 0), ("c", 2), ("b", 1), ("d", 3)):
        jobs.save(_job(job_id, minutes=minutes))
    assert [j.id for j in jobs.recent(10)] == ["d", "c", "b", "a"]
    assert [j.id for j in jobs.recent(2)] == ["d", "c"]


def test_recent_of_one_owner(jobs, people):
    jobs.save(_job("alice-1", minutes=0, owner_id=people.alice.user_id))
    jobs.save(_job("bob-1", minutes=1, owner_id=people.bob.user_id))
    jobs.save(_job("alice-2", minutes=2, owner_id=people.alice.user_id))
    jobs.save(_job("nobody", minutes=3))
    assert [j.id for j in jobs.recent(10, people.alice.user_id)] == ["alice-2", "alice-1"]
    assert [j.id for j in jobs.recent(1, people.alice.user_id)] == ["alice-2"]
    assert [j.id for j in jobs.recent(10, people.bob.user_id)] == ["bob-1"]
    assert len(jobs.recent(10)) == 4


def test_mark_interrupted_touches_only_queued_and_running_jobs(jobs):
    states = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
    for minutes, state in enumerate(states):
        jobs.save(_job(state, state, minutes))
    before = {state: jobs.get(state) for state in states}

    assert jobs.mark_interrupted("the server stopped") == 2

    for state in ("queued", "running"):
        after = jobs.get(state)
        assert after is not None
        assert (after.state, after.phase) == ("interrupted", "interrupted")
        assert after.errors == ("AAPL: no bars", "the server stopped")
        assert after.finished_at is not None
        assert after.finished_at.tzinfo is not None
        assert after.result == {"rows": 120, "symbols": ["AAPL", "MSFT"]}
    for state in states[2:]:
        assert jobs.get(state) == before[state]
    assert jobs.mark_interrupted("again") == 0


def test_a_job_outlives_its_store(jobs, metadata_url):
    jobs.save(_job("j1", "running"))
    restarted = JobStore(open_database(Settings(database_url=metadata_url)))
    assert restarted.mark_interrupted("restart") == 1
    found = restarted.get("j1")
    restarted.database.close()
    assert found is not None
    assert found.state == "interrupted"
