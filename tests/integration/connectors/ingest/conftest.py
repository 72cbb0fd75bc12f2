"""Ingest against a real replay server (a subprocess on a free port, as fast as we read) and
the real Kafka and Kinesis of the local stack."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from connectors.alpaca.stream import Endpoints, endpoints
from connectors.ingest import Ingest, Router
from connectors.replay.process import replay_server_process
from streamlines.settings import Settings

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


@pytest.fixture(scope="session")
def replay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    log = tmp_path_factory.mktemp("ingest-replay") / "server.log"
    with replay_server_process("--speed", "max", "--start", REPLAY_START, log_path=log) as port:
        yield Replay(port)


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
