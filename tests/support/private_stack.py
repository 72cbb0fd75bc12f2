"""A stack of the test session's own, beside the shared one: the project's stack manager with
its state (data, logs, pid files, Flink's configuration) in a directory of its own and every
port its own, so a test may kill or stop its services without touching what other tests and
`streamlines demo` use. The fault tests (tests/faults) run on one."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from streamlines.child import free_port
from streamlines.settings import Settings
from streamlines.stack.manager import Stack

# Smaller JVMs than the shared stack's: this one runs one small job at a time beside it.
FLINK_JOBMANAGER_MEMORY = "768m"
FLINK_TASKMANAGER_MEMORY = "1280m"


@dataclass
class PrivateStack:
    settings: Settings
    stack: Stack
    # STREAMLINES_* variables that point a child process (`streamlines ingest`, `streamlines
    # sink influx`, the flink CLI's job) at this stack.
    env: dict[str, str] = field(default_factory=dict)

    def pid(self, process: str) -> int:
        """The running pid of one of the stack's processes (e.g. ``flink-taskmanager``)."""
        for service in self.stack.services.values():
            for managed in service.processes():
                if managed.name == process:
                    pid = managed.pid()
                    assert pid is not None, f"{process} is not running"
                    return pid
        raise KeyError(process)

    def kill(self, process: str) -> None:
        """``kill -9`` the process and its children (its process group): a crash, no shutdown."""
        os.killpg(self.pid(process), signal.SIGKILL)


def private_settings(
    state_dir: Path, extra: Mapping[str, str] | None = None
) -> tuple[Settings, dict[str, str]]:
    """Settings of a stack in ``state_dir`` on free ports, and the same as environment;
    ``extra`` sets more of them by name (e.g. ``{"flink_taskmanagers": "2"}``)."""
    values: dict[str, str] = {
        "stack_dir": str(state_dir),
        "kafka_port": str(free_port()),
        "kafka_controller_port": str(free_port()),
        "influx_port": str(free_port()),
        "flink_rest_port": str(free_port()),
        "flink_rpc_port": str(free_port()),
        "flink_jobmanager_memory": FLINK_JOBMANAGER_MEMORY,
        "flink_taskmanager_memory": FLINK_TASKMANAGER_MEMORY,
        "start_timeout": "180",
        **(extra or {}),
    }
    env = {f"STREAMLINES_{key.upper()}": value for key, value in values.items()}
    # Settings() reads the variables as a child process would: one source of truth.
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        settings = Settings()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return settings, env


@contextmanager
def private_stack(
    state_dir: Path, services: list[str], extra: Mapping[str, str] | None = None
) -> Iterator[PrivateStack]:
    """``services`` of a new stack in ``state_dir`` (see ``private_settings``, which takes
    ``extra``), up and healthy; stopped at the end, whatever a test killed meanwhile."""
    settings, env = private_settings(state_dir, extra)
    stack = Stack(settings, Console(stderr=True))
    try:
        statuses = stack.up(services)
        assert all(s.state == "healthy" for s in statuses), statuses
        yield PrivateStack(settings, stack, env)
    finally:
        stack.down(services)
