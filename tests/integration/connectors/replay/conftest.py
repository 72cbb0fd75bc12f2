"""A real replay server (a subprocess on a free port) and helpers to drive it over sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from replay_helpers import REPLAY_START

from connectors.replay.universe import Universe, build_universe

REPO = Path(__file__).resolve().parents[4]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ReplayServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(method, f"{self.http}{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def health(self) -> dict[str, Any]:
        return self.control("GET", "/healthz")


@pytest.fixture(scope="session")
def replay_server() -> Iterator[ReplayServer]:
    port = _free_port()
    log = open(f"/tmp/replay-test-{port}.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connectors.replay",
            "serve",
            "--port",
            str(port),
            "--speed",
            "max",
            "--start",
            REPLAY_START,
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    server = ReplayServer(port, process)
    deadline = time.monotonic() + 60
    while True:
        try:
            server.health()
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError(f"replay server did not start; see {log.name}") from None
            time.sleep(0.2)
    yield server
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def replay(replay_server: ReplayServer) -> Iterator[ReplayServer]:
    """The server with no faults and the default configuration, restored after the test."""
    defaults = {
        "speed": None,
        "max_symbols": None,
        "auth_timeout": 10.0,
        "rest_rate_limit": None,
        "max_connections_per_key": 1,
        "allowed_feeds": ["iex", "sip", "delayed_sip", "test"],
    }
    replay_server.control("DELETE", "/control/faults")
    replay_server.control("POST", "/control/config", defaults)
    yield replay_server
    replay_server.control("DELETE", "/control/faults")
    replay_server.control("POST", "/control/config", defaults)


@pytest.fixture
def api_key() -> str:
    """A key no other test uses, so stream positions and connection slots are its own."""
    return f"key-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def reference() -> Universe:
    """The same universe the server builds by default, for the expected values."""
    return build_universe()
