"""Running Flink SQL from a test on a local mini-cluster (PyFlink in a child process, so the
test's process starts no JVM) with the jars the jobs use: the Kafka SQL connector and the jobs'
Java functions, as ``streamlines stack install`` put them; with checkpoints every 300 ms, as the
jobs take them, so that state is serialised as on the cluster."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from tests.support.flink import REPO

_SCRIPT = """
import base64, json, sys
from pyflink.table import EnvironmentSettings, TableEnvironment
from jobs.common.jars import job_jar_uris
from streamlines.settings import Settings

statements, query = json.loads(sys.stdin.read())
env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
env.get_config().set("pipeline.jars", ";".join(job_jar_uris(Settings())))
env.get_config().set("parallelism.default", "1")
env.get_config().set("table.local-time-zone", "UTC")
# Checkpoints, so that a function's state is serialised as it is on the cluster.
env.get_config().set("execution.checkpointing.interval", "300 ms")
for statement in statements:
    env.execute_sql(statement)
def packed(value):
    return {"b64": base64.b64encode(value).decode()}
with env.execute_sql(query).collect() as rows:
    for row in rows:
        print("ROW " + json.dumps(list(row), default=packed), flush=True)
"""


def collect_sql(statements: Sequence[str], query: str, timeout: float = 300) -> list[list[Any]]:
    """Execute ``statements``, then run ``query`` (over bounded sources) to its end; its rows
    in the order they came, each a list of JSON values (``bytes`` for BYTES columns)."""
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=json.dumps([list(statements), query]),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [
        json.loads(line[4:], object_hook=_bytes)
        for line in result.stdout.splitlines()
        if line.startswith("ROW ")
    ]


def _bytes(value: dict[str, Any]) -> Any:
    return base64.b64decode(value["b64"]) if set(value) == {"b64"} else value
