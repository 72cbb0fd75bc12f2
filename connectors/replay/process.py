"""Run the replay server as a child process on a free port: for tests, benchmarks and tools
that need a server of their own next to (not instead of) the stack's."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def replay_server_process(
    *serve_args: str, log_path: Path | None = None, start_timeout: float = 60.0
) -> Iterator[int]:
    """Start ``python -m connectors.replay serve --port <free> <serve_args>``, wait until
    /healthz answers, yield the port; stop the server on exit."""
    port = free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    command = [sys.executable, "-m", "connectors.replay", "serve", "--port", str(port),
               "--log-level", "warning", *serve_args]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=None)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    where = f"; see {log_path}" if log_path else ""
                    raise RuntimeError(f"replay server did not start{where}") from None
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
