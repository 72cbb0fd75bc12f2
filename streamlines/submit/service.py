"""The command that submits a job: ``flink run -py <the job's file> ...`` against the local
cluster, or ``python -m <the job's module> --local ...`` for its own mini-cluster."""

from __future__ import annotations

import os
import subprocess
import sys

from jobs.registry import find_job
from streamlines.settings import Settings
from streamlines.stack.services.flink import FlinkService


def submit_command(
    settings: Settings, name: str, job_args: list[str], *, local: bool, detached: bool
) -> tuple[list[str], dict[str, str]]:
    """The command line that submits the job ``name`` with ``job_args`` (given the local
    Kafka unless they name one), and the environment it needs on top of this one's."""
    job = find_job(name)
    if local:
        return [sys.executable, "-m", job.module, "--local", *job_args], {}
    if "--bootstrap" not in job_args:
        job_args = ["--bootstrap", settings.kafka_bootstrap, *job_args]
    flink_args = ["run", *(["-d"] if detached else []), "-py", str(job.file)]
    return FlinkService(settings).cli_command(*flink_args, *job_args)


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Runs ``command`` (shown on stderr first); its exit status."""
    print("$ " + " ".join(command), file=sys.stderr)
    return subprocess.call(command, env={**os.environ, **env})
