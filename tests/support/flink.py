"""Running a job on the stack's Flink cluster from a test: submitted detached, and cancelled
when the test is done with it."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlines.settings import Settings
from streamlines.stack.services.flink import FlinkService


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
