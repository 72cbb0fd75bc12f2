"""streamlines.submit.service: the command `streamlines jobs submit` runs (nothing is run)."""

from __future__ import annotations

import sys

import pytest

from jobs.registry import JOBS
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.submit.service import submit_command


def test_a_cluster_run_is_flink_run_of_the_jobs_file_with_the_local_kafka():
    settings = Settings()
    command, env = submit_command(settings, "ripples", ["--bounded"], local=False, detached=True)
    assert command[-7:] == [
        "run", "-d", "-py", str(JOBS["ripples"].file),
        "--bootstrap", settings.kafka_bootstrap, "--bounded",
    ]  # fmt: skip
    assert "FLINK_CONF_DIR" in env
    command, _ = submit_command(
        settings, "currents", ["--bootstrap", "k:1"], local=False, detached=False
    )
    assert command[-5:] == ["run", "-py", str(JOBS["currents"].file), "--bootstrap", "k:1"]


def test_a_local_run_is_the_jobs_module_on_a_mini_cluster():
    command, env = submit_command(Settings(), "currents", ["--rsi", "7"], local=True, detached=True)
    assert command == [sys.executable, "-m", "jobs.currents", "--local", "--rsi", "7"]
    assert env == {}


def test_an_unknown_job_is_a_user_error():
    with pytest.raises(UserError, match="no job 'tides'"):
        submit_command(Settings(), "tides", [], local=False, detached=True)
