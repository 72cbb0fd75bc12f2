"""Driving a real replay server from tests: its addresses, REST and control calls, alpaca-py
stream clients run in a thread, and the fixtures that start one (a pytest plugin of
``tests/conftest.py``): ``replay_server`` for the session, ``replay`` for a test."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from streamlines.child import replay_server_process

REPLAY_START = "2012-01-03"


@dataclass
class ReplayServer:
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """A REST (market data, with a test key) or control request; the decoded JSON."""
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

    def health(self) -> dict[str, Any]:
        return self.call("GET", "/healthz")


@contextmanager
def started_replay_server(log_dir: Path, *serve_args: str) -> Iterator[ReplayServer]:
    """A real replay server, a subprocess on a free port sending as fast as it is read
    (``--speed max``) with ``serve_args`` (its log in ``log_dir``); stopped on exit."""
    log = log_dir / "server.log"
    with replay_server_process("--speed", "max", *serve_args, log_path=log) as port:
        yield ReplayServer(port)


@pytest.fixture(scope="session")
def replay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:
    """One replay server for the session, streaming from ``REPLAY_START``. A conftest that
    needs another kind (other data, say) overrides this fixture with its own
    ``started_replay_server``; ``replay`` then uses that one."""
    log_dir = tmp_path_factory.mktemp("replay")
    with started_replay_server(log_dir, "--start", REPLAY_START) as server:
        yield server


@pytest.fixture
def replay(replay_server: ReplayServer) -> Iterator[ReplayServer]:
    """The server with no faults, cleared again after the test."""
    replay_server.call("DELETE", "/control/faults")
    yield replay_server
    replay_server.call("DELETE", "/control/faults")


def run_stream(stream: Any, done: threading.Event, timeout: float = 30.0) -> None:
    """Run an alpaca-py stream in a thread until ``done`` is set (or timeout), then stop it."""
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    done.wait(timeout)
    # stop() needs the stream's loop to be running; wait until it is.
    while stream._loop is None and thread.is_alive():
        time.sleep(0.05)
    if thread.is_alive():
        asyncio.run_coroutine_threadsafe(stream.stop_ws(), stream._loop).result(timeout=10)
    # alpaca-py closes with a websocket close handshake while the server is still streaming
    # as fast as it can; on a loaded 2-core machine that handshake has taken over 15 s.
    thread.join(60)
    assert not thread.is_alive(), "the alpaca-py stream did not stop"


def collector(
    limit: int, done: threading.Event, sink: list[Any], keep: Callable[[Any], bool] = lambda _: True
) -> Callable[[Any], Any]:
    async def handler(message: Any) -> None:
        if keep(message) and len(sink) < limit:
            sink.append(message)
        if len(sink) >= limit:
            done.set()

    return handler
