"""Ingest against a real replay server (``replay`` from ``tests/support/replay.py``: a
subprocess on a free port, as fast as we read) and the real Kafka and Kinesis of the local
stack."""

from __future__ import annotations

import uuid

import pytest

from connectors.alpaca.stream import Endpoints, endpoints
from streamlines.settings import Settings
from tests.support.replay import ReplayServer


@pytest.fixture
def ends(replay: ReplayServer, settings: Settings) -> Endpoints:
    """Endpoints on the test's replay server, with a key (so a stream position) of its own."""
    local = settings.model_copy(
        update={"replay_port": replay.port, "alpaca_api_key": None, "alpaca_secret_key": None}
    )
    return endpoints(local, replay_key=f"ingest-{uuid.uuid4().hex[:10]}")
