from __future__ import annotations

import os
import pwd
import signal
import sys
import time
from pathlib import Path

import pytest

from streamlines.stack.process import ManagedProcess


@pytest.fixture
def proc(tmp_path):
    process = ManagedProcess("sleeper", tmp_path / "run", tmp_path / "logs")
    yield process
    process.stop(timeout=2)


def _sleeper() -> list[str]:
    return [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"]


def test_start_records_pid_and_logs_output(proc):
    pid = proc.start(_sleeper())
    assert proc.pid() == pid
    assert proc.is_running()
    deadline = time.monotonic() + 10
    while "ready" not in proc.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "ready" in proc.log_tail()


def test_stop_ends_the_process_and_removes_the_pid_file(proc):
    proc.start(_sleeper())
    assert proc.stop(timeout=5) is True
    assert not proc.is_running()
    assert not proc.pid_file.exists()
    assert proc.stop() is False


def test_a_killed_process_is_not_running(proc):
    pid = proc.start(_sleeper())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while proc.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not proc.is_running()  # reaped, not mistaken for alive as a zombie


def test_a_pid_file_naming_another_process_is_ignored(proc):
    proc.pid_file.parent.mkdir(parents=True)
    # Our own pid, but with a start time that is not ours: a reused pid from an old run.
    proc.pid_file.write_text(f"{os.getpid()} 1")
    assert proc.pid() is None
    assert not proc.is_running()
    assert proc.stop() is False  # and it must not signal the unrelated process


def test_log_tail_before_any_start(proc):
    assert proc.log_tail() == "(no log yet)"


def test_stop_sends_the_processs_own_stop_signal(tmp_path):
    # Ignores SIGTERM: only the configured SIGINT ends it before the SIGKILL fallback.
    script = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "def stop(*_): print('got SIGINT', flush=True); sys.exit(0)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = ManagedProcess("interruptible", tmp_path / "run", tmp_path / "logs", signal.SIGINT)
    proc.start([sys.executable, "-c", script])
    deadline = time.monotonic() + 10
    while "ready" not in proc.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.stop(timeout=5) is True
    assert "got SIGINT" in proc.log_tail()


@pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")
def test_a_process_started_as_another_user_runs_as_that_user_only(proc):
    nobody = pwd.getpwnam("nobody")
    pid = proc.start(["sleep", "60"], user="nobody")
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    assert status["Uid"].split()[0] == str(nobody.pw_uid)
    assert status["Gid"].split()[0] == str(nobody.pw_gid)
    assert status["Groups"].split() == []  # root's supplementary groups are dropped
    assert proc.is_running()
    assert proc.stop(timeout=5) is True
