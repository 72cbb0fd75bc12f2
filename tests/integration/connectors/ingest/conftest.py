"""Ingest against a real replay server (a subprocess on a free port, as fast as we read) and
the real Kafka and Kinesis of the local stack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from support.replay import REPLAY_START, ReplayServer

from connectors.alpaca.stream import Endpoints, endpoints
from connectors.replay.process import replay_server_process
from streamlines.settings import Settings


@pytest.fixture(scope="session")
def replay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:
    log = tmp_path_factory.mktemp("ingest-replay") / "server.log"
    with replay_server_process("--speed", "max", "--start", REPLAY_START, log_path=log) as port:
        yield ReplayServer(port)


@pytest.fixture
def replay(replay_server: ReplayServer) -> Iterator[ReplayServer]:
    """The server with no faults, cleared again after the test."""
    replay_server.call("DELETE", "/control/faults")
    yield replay_server
    replay_server.call("DELETE", "/control/faults")


@pytest.fixture
def ends(replay: ReplayServer, settings: Settings) -> Endpoints:
    """Endpoints on the test's replay server, with a key (so a stream position) of its own."""
    local = settings.model_copy(
        update={"replay_port": replay.port, "alpaca_api_key": None, "alpaca_secret_key": None}
    )
    return endpoints(local, replay_key=f"ingest-{uuid.uuid4().hex[:10]}")
