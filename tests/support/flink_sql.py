"""Running Flink SQL from a test on a local mini-cluster (PyFlink in a child process, so the
test's process starts no JVM) with the jars the jobs use: the Kafka SQL connector and the jobs'
Java functions, as ``streamlines stack install`` put them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from tests.support.flink import REPO

_SCRIPT = """
import json, sys
from pyflink.table import EnvironmentSettings, TableEnvironment
from jobs.common.jars import job_jar_uris
from streamlines.settings import Settings

statements, query = json.loads(sys.stdin.read())
env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
env.get_config().set("pipeline.jars", ";".join(job_jar_uris(Settings())))
env.get_config().set("parallelism.default", "1")
env.get_config().set("table.local-time-zone", "UTC")
for statement in statements:
    env.execute_sql(statement)
with env.execute_sql(query).collect() as rows:
    for row in rows:
        print("ROW " + json.dumps(list(row)), flush=True)
"""


def collect_sql(statements: Sequence[str], query: str, timeout: float = 300) -> list[list[Any]]:
    """Execute ``statements``, then run ``query`` (over bounded sources) to its end; its rows
    in the order they came, each a list of JSON values."""
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=json.dumps([list(statements), query]),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [json.loads(line[4:]) for line in result.stdout.splitlines() if line.startswith("ROW ")]
