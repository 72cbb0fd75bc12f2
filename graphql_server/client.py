"""A small GraphQL client for scripts, tests and benchmarks: queries over HTTP, subscriptions
over the graphql-transport-ws protocol (what GraphiQL and Apollo clients speak), and a
subscription read in a background thread (``SubscriptionReader``)."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncGenerator, Callable
from typing import Any, Self

import websockets

PROTOCOL = "graphql-transport-ws"


class GraphQLClientError(Exception):
    """The server answered with errors (their messages, joined) or broke the protocol."""


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The header that sends an API key (none without one)."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def post(
    url: str,
    document: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    api_key: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST one query or mutation; the HTTP status and the whole JSON answer (errors too)."""
    body = json.dumps({"query": document, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", **auth_headers(api_key), **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 4xx answers carry GraphQL errors too
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"errors": [{"message": raw.decode(errors="replace")}]}


def query(
    url: str,
    document: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    api_key: str | None = None,
) -> dict[str, Any]:
    """POST one query or mutation (as the user of ``api_key``, with extra HTTP ``headers``);
    returns ``data``, raises GraphQLClientError when the answer has errors."""
    _status, answer = post(url, document, variables, headers, api_key)
    if answer.get("errors"):
        raise GraphQLClientError("; ".join(e["message"] for e in answer["errors"]))
    return answer["data"]


def websocket_url(url: str) -> str:
    """The websocket address of the GraphQL endpoint ``url`` (http → ws, https → wss)."""
    return "ws" + url.removeprefix("http")


async def subscribe(
    url: str,
    document: str,
    variables: dict[str, Any] | None = None,
    connect_timeout: float = 10.0,
    api_key: str | None = None,
) -> AsyncGenerator[dict[str, Any], None]:
    """Each ``data`` the subscription sends (as the user of ``api_key``, sent in the
    ``connection_init`` payload), until the server completes it."""
    async with websockets.connect(websocket_url(url), subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": auth_headers(api_key)}
        await ws.send(json.dumps(init))
        try:
            ack = json.loads(await asyncio.wait_for(ws.recv(), connect_timeout))
        except websockets.ConnectionClosed as exc:
            raise GraphQLClientError(
                f"the server closed the connection ({exc.rcvd.code if exc.rcvd else '-'}: "
                f"{exc.rcvd.reason if exc.rcvd else ''})"
            ) from None
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
        api_key: str | None = None,
    ) -> None:
        self.url, self.document, self.variables = url, document, variables
        self.api_key = api_key
        self.on_data = on_data
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="graphql-subscription", daemon=True
        )

    async def _read(self) -> None:
        async for data in subscribe(self.url, self.document, self.variables,
                                    api_key=self.api_key):  # fmt: skip
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
