"""The replay server under test (``replay_server`` from ``tests/support/replay.py``: a real
server, a subprocess on a free port) and helpers to drive it over sockets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from connectors.replay.universe import Universe, build_universe
from tests.support.replay import ReplayServer


@pytest.fixture
def replay(replay_server: ReplayServer) -> Iterator[ReplayServer]:
    """The server with no faults, no corporate actions and the default configuration, restored
    after the test (overrides the shared ``replay``, which clears the faults only)."""
    defaults = {
        "speed": None,
        "max_symbols": None,
        "auth_timeout": 10.0,
        "rest_rate_limit": None,
        "max_connections_per_key": 1,
        "allowed_feeds": ["iex", "sip", "delayed_sip", "test"],
    }
    replay_server.call("DELETE", "/control/faults")
    replay_server.call("DELETE", "/control/corporate-actions")
    replay_server.call("POST", "/control/config", defaults)
    yield replay_server
    replay_server.call("DELETE", "/control/faults")
    replay_server.call("DELETE", "/control/corporate-actions")
    replay_server.call("POST", "/control/config", defaults)


@pytest.fixture
def api_key() -> str:
    """A key no other test uses, so stream positions and connection slots are its own."""
    return f"key-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def reference() -> Universe:
    """The same universe the server builds by default, for the expected values."""
    return build_universe()
