"""Run one of the project's servers as a child process on a free port: for tests, benchmarks
and tools that need a server of their own next to (not instead of) the stack's. The one place
that starts them: ``replay_server_process``, ``graphql_server_process`` (``child_server`` for
any other ``python -m`` server)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


# Where free_port looks: below the kernel's ephemeral range. A port of that range that is free
# when probed can become the source port of any outgoing connection before the server binds it
# (seen in the tests: a private Flink's REST endpoint failing to bind while Kafka clients retried
# connections), which a port below it cannot.
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 15_000
_handed_out: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now, below the ephemeral range where the kernel says what it is
    (else any free port), and not handed out before by this process."""
    below = range(LOWEST_PORT, _ephemeral_start())
    for port in [*random.sample(below, min(200, len(below))), 0]:
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            found = int(probe.getsockname()[1])
        if found not in _handed_out:
            _handed_out.add(found)
            return found
    raise OSError("no free port on 127.0.0.1")


def _ephemeral_start() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return LOWEST_PORT  # unknown: no candidates below it, any free port


@contextmanager
def child_server(
    module_args: Sequence[str],
    port: int,
    health_path: str = "/healthz",
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    start_timeout: float = 60.0,
) -> Iterator[int]:
    """Start ``python -m <module_args>`` (which must listen on ``port``), wait until
    ``health_path`` answers, yield the port; stop the server (SIGTERM, then kill) on exit."""
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", *module_args],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{health_path}", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    where = f"; see {log_path}" if log_path else ""
                    raise RuntimeError(f"{module_args[0]} did not start{where}") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log_path:
            log.close()  # type: ignore[union-attr]


@contextmanager
def replay_server_process(
    *serve_args: str, log_path: Path | None = None, start_timeout: float = 60.0
) -> Iterator[int]:
    """Start ``python -m connectors.replay serve --port <free> <serve_args>``, wait until
    /healthz answers, yield the port; stop the server on exit."""
    port = free_port()
    args = ["connectors.replay", "serve", "--port", str(port), "--log-level", "warning"]
    with child_server(
        [*args, *serve_args], port, log_path=log_path, start_timeout=start_timeout
    ) as ready:
        yield ready


@contextmanager
def graphql_server_process(
    env: Mapping[str, str] | None = None, log_path: Path | None = None
) -> Iterator[str]:
    """Start ``streamlines graphql serve`` on a free port with these STREAMLINES_* variables
    (e.g. another bucket or topic); yield its GraphQL URL once /healthz answers."""
    port = free_port()
    args = ["streamlines.cli", "graphql", "serve", "--port", str(port), "--log-level", "warning"]
    with child_server(args, port, env=env, log_path=log_path):
        yield f"http://127.0.0.1:{port}/graphql"
