"""graphql_server.client.SubscriptionReader against a small in-process graphql-transport-ws
server (no GraphQL server needed)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from graphql_server.client import PROTOCOL, GraphQLClientError, SubscriptionReader


class FakeServer:
    """Acknowledges the connection, sends ``updates`` as ``next`` messages, then completes
    the subscription, or, with ``complete=False``, keeps it open."""

    def __init__(self, updates: list[dict[str, Any]], complete: bool) -> None:
        self.updates, self.complete = updates, complete
        self.url = ""
        self.subscribed: list[dict[str, Any]] = []
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _handle(self, ws: ServerConnection) -> None:
        assert json.loads(await ws.recv())["type"] == "connection_init"
        await ws.send(json.dumps({"type": "connection_ack"}))
        message = json.loads(await ws.recv())
        self.subscribed.append(message["payload"])
        for data in self.updates:
            payload = {"data": data}
            await ws.send(json.dumps({"id": message["id"], "type": "next", "payload": payload}))
        if self.complete:
            await ws.send(json.dumps({"id": message["id"], "type": "complete"}))
        await ws.wait_closed()

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with serve(
            self._handle, "127.0.0.1", 0, subprotocols=[Subprotocol(PROTOCOL)]
        ) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            self.url = f"http://127.0.0.1:{port}/graphql"
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> FakeServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def updates() -> list[dict[str, Any]]:
    return [{"ripples": {"tNs": "1"}}, {"ripples": {"tNs": "2"}}]


def wait_for(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_each_update_reaches_on_data_until_stopped(updates):
    received: list[dict[str, Any]] = []
    with (
        FakeServer(updates, complete=False) as server,
        SubscriptionReader(server.url, "subscription { x }", received.append, {"a": 1}) as reader,
    ):
        wait_for(lambda: len(received) == 2)
    assert received == updates
    assert reader.error is None
    assert server.subscribed == [{"query": "subscription { x }", "variables": {"a": 1}}]


def test_a_subscription_the_server_completes_is_an_error(updates):
    received: list[dict[str, Any]] = []
    with FakeServer(updates, complete=True) as server:
        reader = SubscriptionReader(server.url, "subscription { x }", received.append)
        reader.start()
        wait_for(lambda: reader.error is not None)
        reader.stop()
    assert received == updates
    assert isinstance(reader.error, GraphQLClientError)
    assert "completed" in str(reader.error)


def test_a_connection_that_fails_is_an_error():
    reader = SubscriptionReader("http://127.0.0.1:9/graphql", "subscription { x }", print)
    with reader:
        wait_for(lambda: reader.error is not None)
    assert isinstance(reader.error, OSError)


def test_an_error_in_on_data_ends_the_reader(updates):
    def fail(data: dict[str, Any]) -> None:
        raise ValueError(data)

    with (
        FakeServer(updates, complete=False) as server,
        SubscriptionReader(server.url, "subscription { x }", fail) as reader,
    ):
        wait_for(lambda: reader.error is not None)
    assert isinstance(reader.error, ValueError)
