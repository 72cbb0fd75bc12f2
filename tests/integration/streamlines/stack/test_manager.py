"""`streamlines stack status` sees a killed service as down; `stack up` brings it back."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.processes import run_cli


def _wait_dead(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@pytest.mark.parametrize("service", ["kinesis", "aws", "postgres", "flink"])
def test_killed_service_is_down_then_up_again(stack, service):
    process = stack.services[service].processes()[-1]  # flink: the TaskManager only
    pid = process.pid()
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    _wait_dead(pid)

    status = run_cli("stack", "status", service)
    assert status.returncode == 1, status.stdout
    assert "down" in status.stdout

    up = run_cli("stack", "up", service)
    assert up.returncode == 0, up.stderr
    after = stack.status([service])[0]
    assert after.state == "healthy", after
    assert process.pid() != pid

    status = run_cli("stack", "status")
    assert status.returncode == 0, status.stdout
    assert "down" not in status.stdout
