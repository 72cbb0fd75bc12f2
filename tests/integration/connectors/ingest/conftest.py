"""Ingest against a real replay server (a subprocess on a free port, as fast as we read) and
the real Kafka and Kinesis of the local stack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.alpaca.stream import Endpoints, endpoints
from connectors.ingest import Ingest, Router
from streamlines.settings import Settings

REPO = Path(__file__).resolve().parents[4]
REPLAY_START = "2012-01-03"


@dataclass
class Replay:
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = requests.request(
            method,
            f"{self.http}{path}",
            json=body,
            params=params or None,
            headers={"APCA-API-KEY-ID": "test", "APCA-API-SECRET-KEY": "test"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def replay_server() -> Iterator[Replay]:
    port = _free_port()
    log = open(f"/tmp/ingest-replay-{port}.log", "wb")  # noqa: SIM115 - closed at teardown
    command = [sys.executable, "-m", "connectors.replay", "serve", "--port", str(port),
               "--speed", "max", "--start", REPLAY_START, "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    server = Replay(port)
    deadline = time.monotonic() + 60
    while True:
        try:
            server.call("GET", "/healthz")
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
def replay(replay_server: Replay) -> Iterator[Replay]:
    """The server with no faults, cleared again after the test."""
    replay_server.call("DELETE", "/control/faults")
    yield replay_server
    replay_server.call("DELETE", "/control/faults")


@pytest.fixture
def ends(replay: Replay, settings: Settings) -> Endpoints:
    """Endpoints on the test's replay server, with a key (so a stream position) of its own."""
    local = settings.model_copy(
        update={"replay_port": replay.port, "alpaca_api_key": None, "alpaca_secret_key": None}
    )
    return endpoints(local, replay_key=f"ingest-{uuid.uuid4().hex[:10]}")


def run_until(run: Ingest, done: Callable[[Router], bool], timeout: float = 30.0) -> None:
    """Run ingest until ``done(router)`` holds (or the timeout), then stop and flush it."""
    run.start()
    deadline = time.monotonic() + timeout
    try:
        while not done(run.router) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        run.stop()
    assert done(run.router), f"ingest did not get there in {timeout} s: {run.summary()}"
