"""streamlines.submit.cluster: Flink's REST answers read, jobs found by id or name, stop with a
savepoint and cancel against a scripted REST API (the calls it makes are checked)."""

from __future__ import annotations

from typing import Any

import pytest

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.submit.cluster import (
    FlinkJob,
    cancel,
    check_restored,
    configured_savepoint_dir,
    list_jobs,
    match_job,
    parse_jobs,
    savepoint_directory,
    savepoint_status,
    stop_with_savepoint,
)

OVERVIEW = {
    "jobs": [
        {"jid": "a" * 32, "name": "ripples market.trades market.quotes", "state": "RUNNING",
         "start-time": 1_700_000_000_000, "end-time": -1, "duration": 5, "tasks": {}},
        {"jid": "b" * 32, "name": "ripples t-test.trades t-test.quotes", "state": "CANCELED",
         "start-time": 1_700_000_100_000},
        {"jid": "c" * 32, "name": "currents market.bars", "state": "RESTARTING",
         "start-time": 1_700_000_200_000},
        {"jid": "d" * 32, "name": "ripples t-other.trades t-other.quotes", "state": "RUNNING",
         "start-time": 1_699_000_000_000},
    ]
}  # fmt: skip


class ScriptedRest:
    """A REST API that answers each (method, path) from a script, in order, and records the
    calls."""

    def __init__(self, answers: dict[tuple[str, str], list[Any]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(self, method: str, path: str, body: Any) -> Any:
        self.calls.append((method, path, body))
        queue = self.answers[method, path]
        return queue.pop(0) if len(queue) > 1 else queue[0]


def test_jobs_overview_is_read_newest_first_with_a_utc_start_time():
    jobs = parse_jobs(OVERVIEW)
    assert [job.id[0] for job in jobs] == ["c", "b", "a", "d"]
    assert jobs[2] == FlinkJob("a" * 32, "ripples market.trades market.quotes", "RUNNING",
                               1_700_000_000_000)  # fmt: skip
    assert jobs[2].started == "2023-11-14 22:13:20 UTC"
    assert [job.active for job in jobs] == [True, False, True, True]
    rest = ScriptedRest({("GET", "/jobs/overview"): [OVERVIEW]})
    assert [job.id[0] for job in list_jobs(rest)] == ["c", "a", "d"]
    assert len(list_jobs(rest, include_ended=True)) == 4


def test_a_job_is_found_by_id_or_by_a_unique_start_of_a_running_jobs_name():
    jobs = parse_jobs(OVERVIEW)
    assert match_job(jobs, "b" * 32).state == "CANCELED"  # an id names any job
    assert match_job(jobs, "A" * 32).id == "a" * 32
    assert match_job(jobs, "ripples market").id == "a" * 32
    assert match_job(jobs, "currents").id == "c" * 32
    # The cancelled ripples job does not count; two running ones do.
    with pytest.raises(UserError) as ambiguous:
        match_job(jobs, "ripples")
    assert "2 running Flink jobs have names starting with 'ripples'" in str(ambiguous.value)
    assert "d" * 32 in str(ambiguous.value)
    assert "fix: give more of the name, or the job's id" in str(ambiguous.value)
    with pytest.raises(UserError, match=r"no running Flink job .* 'ripples t-test'"):
        match_job(jobs, "ripples t-test")
    with pytest.raises(UserError, match="fix: give a job id \\(32 hex digits\\)"):
        match_job(jobs, "e" * 32)


def test_an_exact_name_wins_over_longer_names_it_starts():
    jobs = [
        FlinkJob("a" * 32, "currents market.bars", "RUNNING", 1),
        FlinkJob("b" * 32, "currents market.bars-2", "RUNNING", 2),
    ]
    assert match_job(jobs, "currents market.bars").id == "a" * 32


def test_the_savepoint_directory_is_the_given_one_or_the_clusters_default(tmp_path):
    config = [
        {"key": "rest.port", "value": "8081"},
        {"key": "execution.checkpointing.savepoint-dir", "value": "file:///state/savepoints"},
    ]
    assert configured_savepoint_dir(config) == "file:///state/savepoints"
    assert configured_savepoint_dir([{"key": "state.savepoints.dir", "value": "s3://b/sp"}]) == (
        "s3://b/sp"
    )
    assert configured_savepoint_dir(config[:1]) is None

    local = Settings(home=tmp_path)
    rest = ScriptedRest({("GET", "/jobmanager/config"): [config]})
    assert savepoint_directory(local, rest, "s3://bucket/sp") == "s3://bucket/sp"
    assert savepoint_directory(local, rest, str(tmp_path / "sp")) == (tmp_path / "sp").as_uri()
    assert rest.calls == []
    assert savepoint_directory(local, rest, None) == "file:///state/savepoints"
    bare = ScriptedRest({("GET", "/jobmanager/config"): [config[:1]]})
    assert savepoint_directory(local, bare, None) == (
        (local.state_dir / "flink" / "savepoints").as_uri()
    )
    remote = Settings(home=tmp_path, flink_address="http://jobmanager:8081")
    with pytest.raises(UserError, match="has no default savepoint directory") as error:
        savepoint_directory(remote, bare, None)
    assert "pass --savepoint-dir" in str(error.value)


def test_savepoint_status_reads_progress_location_and_the_innermost_cause():
    assert savepoint_status({"status": {"id": "IN_PROGRESS"}}) == ("IN_PROGRESS", None, None)
    done = {"status": {"id": "COMPLETED"}, "operation": {"location": "file:/sp/savepoint-1"}}
    assert savepoint_status(done) == ("COMPLETED", "file:/sp/savepoint-1", None)
    trace = (
        "java.util.concurrent.CompletionException: outer\n\tat x.y(Z.java:1)\n"
        "Caused by: org.apache.flink.runtime.checkpoint.CheckpointException: middle\n"
        "Caused by: java.io.IOException: Permission denied: /sp\n\tat a.b(C.java:2)"
    )
    failed = {"status": {"id": "COMPLETED"}, "operation": {"failure-cause": {"stack-trace": trace}}}
    assert savepoint_status(failed) == (
        "COMPLETED", None, "java.io.IOException: Permission denied: /sp"
    )  # fmt: skip


def running_job() -> FlinkJob:
    return FlinkJob("a" * 32, "ripples market.trades market.quotes", "RUNNING", 1)


def test_stop_triggers_a_savepoint_polls_it_and_waits_for_the_job_to_end():
    job = running_job()
    rest = ScriptedRest(
        {
            ("POST", f"/jobs/{job.id}/stop"): [{"request-id": "trigger-1"}],
            ("GET", f"/jobs/{job.id}/savepoints/trigger-1"): [
                {"status": {"id": "IN_PROGRESS"}},
                {"status": {"id": "IN_PROGRESS"}},
                {"status": {"id": "COMPLETED"}, "operation": {"location": "file:/sp/savepoint-a"}},
            ],
            ("GET", f"/jobs/{job.id}"): [{"state": "RUNNING"}, {"state": "FINISHED"}],
        }
    )
    slept: list[float] = []
    savepoint = stop_with_savepoint(rest, job, "file:///sp", sleep=slept.append)
    assert savepoint.location == "file:/sp/savepoint-a"
    assert savepoint.state == "FINISHED"
    assert rest.calls[0] == (
        "POST", f"/jobs/{job.id}/stop",
        {"targetDirectory": "file:///sp", "drain": False, "formatType": "CANONICAL"},
    )  # fmt: skip
    assert len(slept) == 3  # twice for the savepoint, once for the job's end
    stop_with_savepoint(rest, job, "file:///sp", drain=True, sleep=slept.append)
    posts = [call for call in rest.calls if call[0] == "POST"]
    assert posts[-1][2]["drain"] is True


def test_a_failed_savepoint_is_a_user_error_with_flinks_reason():
    job = running_job()
    cause = {"stack-trace": "x.CheckpointException: Task has failed: not all running"}
    rest = ScriptedRest(
        {
            ("POST", f"/jobs/{job.id}/stop"): [{"request-id": "t"}],
            ("GET", f"/jobs/{job.id}/savepoints/t"): [
                {"status": {"id": "COMPLETED"}, "operation": {"failure-cause": cause}}
            ],
        }
    )
    with pytest.raises(UserError) as error:
        stop_with_savepoint(rest, job, "file:///sp", sleep=lambda _: None)
    message = str(error.value)
    assert "the savepoint of job " + job.id in message
    assert "failed: x.CheckpointException: Task has failed: not all running" in message
    assert "the job runs on" in message
    assert "fix: see `streamlines stack logs flink`" in message


def test_a_savepoint_that_takes_too_long_is_reported_not_waited_for_forever():
    job = running_job()
    rest = ScriptedRest(
        {
            ("POST", f"/jobs/{job.id}/stop"): [{"request-id": "t"}],
            ("GET", f"/jobs/{job.id}/savepoints/t"): [{"status": {"id": "IN_PROGRESS"}}],
        }
    )
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(UserError, match="was not done after 5 s"):
        stop_with_savepoint(rest, job, "file:///sp", timeout_s=5, sleep=sleep, clock=lambda: now[0])


def test_a_job_that_has_ended_is_neither_stopped_nor_cancelled():
    ended = FlinkJob("b" * 32, "ripples t.trades t.quotes", "CANCELED", 1)
    rest = ScriptedRest({})
    with pytest.raises(UserError, match="is CANCELED, not running"):
        stop_with_savepoint(rest, ended, "file:///sp")
    with pytest.raises(UserError, match="is CANCELED, not running"):
        cancel(rest, ended)
    assert rest.calls == []


def test_cancel_patches_the_job_and_waits_for_its_end():
    job = running_job()
    rest = ScriptedRest(
        {
            ("PATCH", f"/jobs/{job.id}?mode=cancel"): [None],
            ("GET", f"/jobs/{job.id}"): [{"state": "CANCELED"}],
        }
    )
    assert cancel(rest, job) == "CANCELED"
    assert rest.calls[0] == ("PATCH", f"/jobs/{job.id}?mode=cancel", None)


def test_a_restore_is_checked_once_the_job_is_past_its_initialization():
    job_id = "e" * 32
    rest = ScriptedRest(
        {("GET", f"/jobs/{job_id}"): [{"state": "INITIALIZING"}, {"state": "RUNNING"}]}
    )
    slept: list[float] = []
    assert check_restored(rest, job_id, sleep=slept.append) == "RUNNING"
    assert len(slept) == 1


def test_a_savepoint_that_does_not_fit_the_job_is_a_user_error_with_flinks_reason():
    job_id = "e" * 32
    trace = (
        "org.apache.flink.runtime.client.JobInitializationException: Could not start the "
        "JobMaster.\n\tat a.b(C.java:1)\nCaused by: java.lang.IllegalStateException: Failed to "
        "rollback to checkpoint/savepoint file:/sp/savepoint-1. Cannot map checkpoint/savepoint "
        "state for operator 3bb1bcbd266083055e0899e0dbfb4f8c to the new program, because the "
        "operator is not available in the new program."
    )
    rest = ScriptedRest(
        {
            ("GET", f"/jobs/{job_id}"): [{"state": "FAILED"}],
            ("GET", f"/jobs/{job_id}/exceptions"): [{"root-exception": trace}],
        }
    )
    with pytest.raises(UserError) as error:
        check_restored(rest, job_id, sleep=lambda _: None)
    message = str(error.value)
    assert message.startswith(
        f"Flink job {job_id} failed to start from the savepoint: java.lang.IllegalStateException: "
        "Failed to rollback to checkpoint/savepoint file:/sp/savepoint-1. Cannot map"
    )
    assert "--allow-non-restored-state drops that state" in message
    assert "\tat " not in message
