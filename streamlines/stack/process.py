"""A service process started detached, tracked by a pid file, its output in a log file."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict


class Identity(TypedDict):
    """Popen's arguments that run a child as another user: its uid, primary gid, no others."""

    user: int | None
    group: int | None
    extra_groups: list[int] | None


def identity(user: str | None) -> Identity:
    """Run as ``user`` (by name), or as ourselves for None. Switching needs root."""
    if user is None:
        return Identity(user=None, group=None, extra_groups=None)
    account = pwd.getpwnam(user)
    # No extra groups: the child must not keep root's supplementary groups.
    return Identity(user=account.pw_uid, group=account.pw_gid, extra_groups=[])


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    run_dir: Path
    log_dir: Path
    # What stop() sends first; some servers shut down faster on another (PostgreSQL: SIGINT).
    stop_signal: int = signal.SIGTERM

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The recorded pid if that process is still the one we started, else None."""
        try:
            pid_text, started_text = self.pid_file.read_text().split()
            pid, started = int(pid_text), int(started_text)
        except (FileNotFoundError, ValueError):
            return None
        # A pid file left behind by a stopped machine or session may name a reused pid;
        # the kernel's start time of the process tells them apart.
        return pid if _start_time(pid) == started else None

    def is_running(self) -> bool:
        pid = self.pid()
        return pid is not None and _alive(pid)

    def start(
        self,
        command: Sequence[str | os.PathLike[str]],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> int:
        """Start ``command`` detached; as ``user`` if given (that needs root)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(
                f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} start\n".encode()
            )
            log.flush()
            proc = subprocess.Popen(
                [str(part) for part in command],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,  # its own process group: stop() signals the whole tree
                **identity(user),
            )
        self.pid_file.write_text(f"{proc.pid} {_start_time(proc.pid)}")
        return proc.pid

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop the process group; returns True if something was running."""
        pid = self.pid()
        if pid is None or not _alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, self.stop_signal)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log yet)"
        return "\n".join(text.splitlines()[-lines:])


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # field 22: starttime, in clock ticks


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    # Reap it if it is our own child that has exited; a zombie still answers kill(0).
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
