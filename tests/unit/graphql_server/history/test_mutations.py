"""The gather mutations need a key, refuse bad arguments before a job starts, and start the job
as the key's user's."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from graphql_server.history import gather
from graphql_server.jobs.registry import JobHandle, JobRegistry, JobState, Work
from tests.support.graphql import ALICE, execute

BACKFILL = 'mutation { backfill(symbols: ["GOOG"], start: "2012-01-01", end: "2012-01-02") { id } }'
APPEND = "mutation { appendLatest { id kind status } }"


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The gather of both mutations replaced by a job that waits for the event (unit tests
    gather nothing); set it to let the jobs end."""
    release = threading.Event()

    def waiting(*_args: object) -> Work:
        def work(handle: JobHandle) -> JobState:
            release.wait(10)
            return JobState.SUCCEEDED

        return work

    monkeypatch.setattr(gather, "backfill", waiting)
    monkeypatch.setattr(gather, "append_latest", waiting)
    yield release
    release.set()


def test_bad_arguments_are_refused_before_anything_runs():
    jobs = JobRegistry()
    cases = {
        'mutation { backfill(symbols: [], start: "2012-01-01", end: "2012-01-02") { id } }':
            "no symbols",
    }  # fmt: skip
    for query, message in cases.items():
        result = execute(query, {JobRegistry: jobs})
        assert result.errors, query
        assert message in result.errors[0].message, (query, result.errors)
    assert jobs.recent(10) == []


def test_without_a_key_no_job_starts(held):
    jobs = JobRegistry()
    for query in (BACKFILL, APPEND):
        result = execute(query, {JobRegistry: jobs}, principal=None)
        assert result.errors, query
        assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
        assert "this needs an API key" in result.errors[0].message
    assert jobs.recent(10) == []


def test_the_job_belongs_to_the_keys_user(held):
    jobs = JobRegistry()
    started = []
    for query, name in ((BACKFILL, "backfill"), (APPEND, "appendLatest")):
        result = execute(query, {JobRegistry: jobs}, principal=ALICE)
        assert result.errors is None, result.errors
        assert result.data is not None
        started.append(result.data[name]["id"])
    assert [jobs.get(job_id).owner_id for job_id in started] == [ALICE.user_id] * 2  # type: ignore[union-attr]
    assert jobs.running_count(ALICE.user_id) == 2
