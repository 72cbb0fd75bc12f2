"""A snapshot survives the trip to the metadata database's row and back."""

from graphql_server.jobs.snapshot import JobSnapshot, JobState, from_stored, to_stored


def test_a_snapshot_comes_back_from_its_stored_form_as_it_was():
    job = JobSnapshot(
        id="abc123def456", kind="backfill", state=JobState.PARTIAL, created_at=1_700_000_000.25,
        description="two symbols", phase="partial", done=2, total=2, items=15,
        errors=("NOPE: no bars",), started_at=1_700_000_001.5, finished_at=1_700_000_002.75,
        result={"bars": 15, "seconds": 1.25}, owner_id=2,
    )  # fmt: skip
    stored = to_stored(job)
    assert stored.created_at.isoformat() == "2023-11-14T22:13:20.250000+00:00"
    assert stored.state == "partial"
    assert from_stored(stored) == job


def test_a_queued_snapshot_has_no_start_or_end():
    job = JobSnapshot(id="x", kind="k", state=JobState.QUEUED, created_at=1.0, description="d")
    stored = to_stored(job)
    assert (stored.started_at, stored.finished_at, stored.owner_id) == (None, None, None)
    assert from_stored(stored) == job


def test_only_queued_and_running_are_unfinished():
    assert [s for s in JobState if not s.finished] == [JobState.QUEUED, JobState.RUNNING]
    assert JobState.INTERRUPTED.finished
