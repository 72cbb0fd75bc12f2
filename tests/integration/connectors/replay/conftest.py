"""A real replay server (a subprocess on a free port) and helpers to drive it over sockets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from replay_helpers import REPLAY_START

from connectors.replay.process import replay_server_process
from connectors.replay.universe import Universe, build_universe


@dataclass
class ReplayServer:
    port: int

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
def replay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:
    log = tmp_path_factory.mktemp("replay") / "server.log"
    with replay_server_process("--speed", "max", "--start", REPLAY_START, log_path=log) as port:
        yield ReplayServer(port)


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
