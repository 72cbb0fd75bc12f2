"""A small GraphQL client for scripts, tests and benchmarks: queries over HTTP, subscriptions
over the graphql-transport-ws protocol (what GraphiQL and Apollo clients speak), and a
subscription read in a background thread (``SubscriptionReader``)."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import AsyncGenerator, Callable
from typing import Any, Self

import websockets

PROTOCOL = "graphql-transport-ws"


class GraphQLClientError(Exception):
    """The server answered with errors (their messages, joined) or broke the protocol."""


def query(
    url: str,
    document: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST one query or mutation (with extra HTTP ``headers``, e.g. X-Streamlines-User);
    returns ``data``, raises GraphQLClientError when the answer has errors."""
    body = json.dumps({"query": document, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        raise GraphQLClientError("; ".join(e["message"] for e in answer["errors"]))
    return answer["data"]


async def subscribe(
    url: str,
    document: str,
    variables: dict[str, Any] | None = None,
    connect_timeout: float = 10.0,
) -> AsyncGenerator[dict[str, Any], None]:
    """Each ``data`` the subscription sends, until the server completes it."""
    ws_url = "ws" + url.removeprefix("http")
    async with websockets.connect(ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), connect_timeout))
        if ack.get("type") != "connection_ack":
            raise GraphQLClientError(f"expected connection_ack, got {ack}")
        payload = {"query": document, "variables": variables or {}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        async for raw in ws:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "next":
                if message["payload"].get("errors"):
                    errors = message["payload"]["errors"]
                    raise GraphQLClientError("; ".join(e["message"] for e in errors))
                yield message["payload"]["data"]
            elif kind == "error":
                raise GraphQLClientError("; ".join(e["message"] for e in message["payload"]))
            elif kind == "complete":
                return
            elif kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))


class SubscriptionReader:
    """A subscription read in a thread of its own (with its own event loop) from ``start()``
    until ``stop()``; also a context manager. ``on_data`` is called with each ``data``, in that
    thread, as it arrives. What ended the subscription before ``stop()`` is kept in ``error``
    (None while it runs): the server's errors, a broken connection, or the server completing it
    (a ``GraphQLClientError``: a live subscription is read until stopped)."""

    def __init__(
        self,
        url: str,
        document: str,
        on_data: Callable[[dict[str, Any]], None],
        variables: dict[str, Any] | None = None,
    ) -> None:
        self.url, self.document, self.variables = url, document, variables
        self.on_data = on_data
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="graphql-subscription", daemon=True
        )

    async def _read(self) -> None:
        async for data in subscribe(self.url, self.document, self.variables):
            self.on_data(data)
        raise GraphQLClientError("the server completed the subscription")

    async def _run(self) -> None:
        task = asyncio.ensure_future(self._read())
        while not self._stop.is_set() and not task.done():
            await asyncio.sleep(0.1)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # kept for the caller, who is in another thread
            self.error = exc

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Close the subscription and wait (up to ``timeout`` seconds) for the thread to end."""
        self._stop.set()
        self._thread.join(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
