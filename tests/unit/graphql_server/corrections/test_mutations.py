"""deleteBars needs a key and refuses bad arguments before anything is deleted; the audit
records the key's user (never a header) before the bars are deleted."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from graphql_server.corrections import delete, recompute
from graphql_server.corrections.store import CorrectionsStore
from graphql_server.jobs.registry import JobHandle, JobRegistry, JobState, Work
from streamlines.metadata.audit import DeletionAudit
from streamlines.metadata.database import Database
from tests.support.graphql import ALICE, execute

DELETE = """mutation { deleteBars(symbol: "GOOG", start: "2012-01-03", end: "2012-01-05",
  reason: "bad prints") { deletion { symbol who reason deleted recomputeJob }
  recompute { id kind } } }"""


class FakeCorrections:
    """Three bars in any range; the calls it had."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def count_bars(self, *args: object) -> int:
        self.calls.append(("count_bars", *args))
        return 3


@pytest.fixture
def deleted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """InfluxDB's delete API and the recompute replaced (unit tests change no store): the
    deletions asked for."""
    calls: list[tuple[Any, ...]] = []

    def no_recompute(*_args: object) -> Work:
        def work(handle: JobHandle) -> JobState:
            return JobState.SUCCEEDED

        return work

    monkeypatch.setattr(recompute, "recompute", no_recompute)
    monkeypatch.setattr(delete, "delete_points", lambda *args: calls.append(args))
    return calls


def services(store: FakeCorrections, audit: DeletionAudit, jobs: JobRegistry) -> dict:
    return {CorrectionsStore: store, DeletionAudit: audit, JobRegistry: jobs}


def test_bad_arguments_are_refused_before_anything_runs(database: Database, deleted):
    store, audit = FakeCorrections(), DeletionAudit(database)
    cases = {
        'mutation { deleteBars(symbol: "GOOG", start: "2012-01-01", end: "2012-01-02", '
        'reason: "  ") { deletion { deleted } } }': "no reason given",
    }  # fmt: skip
    for query, message in cases.items():
        result = execute(query, services(store, audit, JobRegistry()))
        assert result.errors, query
        assert message in result.errors[0].message, (query, result.errors)
    assert store.calls == []
    assert audit.recent(10) == []


def test_without_a_key_nothing_is_counted_recorded_or_deleted(database: Database, deleted):
    store, audit, jobs = FakeCorrections(), DeletionAudit(database), JobRegistry()
    result = execute(DELETE, services(store, audit, jobs), principal=None)
    assert result.errors
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
    assert (store.calls, audit.recent(10), deleted, jobs.recent(10)) == ([], [], [], [])


def test_the_audit_names_the_keys_user_and_is_written_before_the_delete(
    database: Database, monkeypatch: pytest.MonkeyPatch, deleted
):
    audit, jobs = DeletionAudit(database), JobRegistry()
    rows_at_delete: list[int] = []
    monkeypatch.setattr(delete, "delete_points",
                        lambda *args: rows_at_delete.append(len(audit.recent(10))))  # fmt: skip
    result = execute(DELETE, services(FakeCorrections(), audit, jobs), principal=ALICE)
    assert result.errors is None, result.errors
    assert result.data is not None
    got = result.data["deleteBars"]
    assert got["deletion"] == {"symbol": "GOOG", "who": "alice", "reason": "bad prints",
                               "deleted": 3, "recomputeJob": got["recompute"]["id"]}  # fmt: skip
    assert rows_at_delete == [1]  # the audit row was there when the bars were deleted
    [record] = audit.recent(10)
    assert (record.who, record.user_id, record.deleted) == ("alice", ALICE.user_id, 3)
    assert record.recompute_job == got["recompute"]["id"]
    assert jobs.get(record.recompute_job).owner_id == ALICE.user_id  # type: ignore[union-attr]


def test_with_no_room_for_the_recompute_job_nothing_is_deleted(database: Database, deleted):
    store, audit = FakeCorrections(), DeletionAudit(database)
    jobs = JobRegistry(max_running=1)
    release = threading.Event()

    def held(handle: JobHandle) -> None:
        release.wait(10)

    jobs.start("backfill", "alice's running job", held, owner_id=ALICE.user_id)
    try:
        result = execute(DELETE, services(store, audit, jobs), principal=ALICE)
    finally:
        release.set()
    assert result.errors
    assert (store.calls, audit.recent(10), deleted) == ([], [], [])
