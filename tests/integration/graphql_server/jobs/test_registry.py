"""Jobs survive a restart of the real server (on SQLite and on PostgreSQL): a finished backfill
comes back as it ended, one that was running when the server stopped comes back interrupted."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from streamlines.metadata.database import open_database
from streamlines.metadata.jobs import JobStore
from streamlines.settings import Settings
from tests.support.graphql_jobs import (
    backfill,
    job,
    job_end,
    job_server,
    job_server_env,
    wait_for_status,
)
from tests.support.metadata import Keys
from tests.support.replay import ReplayServer


def stored_state(url: str, job_id: str, timeout: float = 10) -> str:
    """The job's state in the metadata database, once it is there."""
    database = open_database(Settings(database_url=url))
    try:
        deadline = time.monotonic() + timeout
        while (found := JobStore(database).get(job_id)) is None:
            assert time.monotonic() < deadline, f"job {job_id} was never written"
            time.sleep(0.05)
        return found.state
    finally:
        database.close()


def test_finished_jobs_survive_a_restart_and_running_ones_come_back_interrupted(
    keys: Keys,
    replay: ReplayServer,
    make_bucket: Callable[[str], str],
    unique_name: str,
    tmp_path: Path,
):
    env = job_server_env(keys, replay, make_bucket("market"), make_bucket("analytics"),
                         unique_name)  # fmt: skip
    with job_server(env, tmp_path / "first.log") as url:
        short = backfill(url, keys.alice, ["GOOG"], "2012-01-01", "2012-03-31")
        ended = job_end(url, keys.alice, short)
        assert ended["status"] == "SUCCEEDED", ended
        assert ended["items"] > 50
        # every request for bars answered 429 from now on: the next backfill retries for minutes
        replay.call("POST", "/control/faults", {"rest_error_status": 429, "rest_error_count": -1})
        long = backfill(url, keys.alice, ["SP500"], "2012-01-01", "2012-03-31")
        wait_for_status(url, keys.alice, long, "RUNNING")
        while stored_state(keys.url, long) != "running":
            time.sleep(0.05)
    # the server has stopped (SIGTERM, then killed) while the long job ran

    with job_server(env, tmp_path / "second.log") as url:
        assert job(url, keys.alice, short) == ended
        interrupted = job(url, keys.alice, long)
        assert interrupted is not None
        assert interrupted["status"] == "INTERRUPTED"
        assert interrupted["errors"] == ["the server stopped while this job ran; start it again"]
        assert (interrupted["kind"], interrupted["owner"]) == ("backfill", "alice")
        # the subscription of a job from before the restart sends its end at once
        assert job_end(url, keys.alice, long, timeout=10) == interrupted
        assert "1 job(s) left queued or running" in (tmp_path / "second.log").read_text()
