"""A small GraphQL client for scripts, tests and benchmarks: queries over HTTP, subscriptions
over the graphql-transport-ws protocol (what GraphiQL and Apollo clients speak)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import websockets

PROTOCOL = "graphql-transport-ws"


class GraphQLClientError(Exception):
    """The server answered with errors (their messages, joined) or broke the protocol."""


def query(url: str, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST one query; returns ``data``, raises GraphQLClientError when the answer has errors."""
    body = json.dumps({"query": document, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
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
) -> AsyncIterator[dict[str, Any]]:
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
