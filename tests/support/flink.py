"""Running a job from a test: on the stack's Flink cluster, to its end (``run_job``) or detached
and cancelled when the test is done with it (``running_job``), or as ``python -m`` of the job's
module (``run_job_module``, e.g. ``--local`` on its own mini-cluster)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jobs.registry import Job
from streamlines.settings import Settings
from streamlines.stack.services.flink import FlinkService

REPO = Path(__file__).resolve().parents[2]


def run_job(
    settings: Settings, job: Path, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``flink run -py <job> <args>`` on the stack's cluster, to the job's end (a bounded
    job); fails the test unless it succeeds."""
    command, env = FlinkService(settings).cli_command("run", "-py", str(job), *args)
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def run_job_module(job: Job, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python -m <the job's module> <args>`` from the project's folder, to its end; its
    output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", job.module, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def running_job(settings: Settings, job: Path, *args: str) -> Iterator[str]:
    """``flink run -d -py <job> <args>``; yields the job's id once every task runs (on a busy
    cluster, scheduling alone can take longer than a source's idle timeout) and cancels the
    job at the end of the block."""
    command, env = FlinkService(settings).cli_command("run", "-d", "-py", str(job), *args)
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    match = re.search(r"JobID ([0-9a-f]{32})", result.stdout)
    assert match, result.stdout[-3000:]
    job_id = match.group(1)
    try:
        FlinkService(settings).wait_until_job_running(job_id, timeout=300)
        yield job_id
    finally:
        url = f"{settings.flink_rest_url}/jobs/{job_id}?mode=cancel"
        urllib.request.urlopen(urllib.request.Request(url, method="PATCH"))
