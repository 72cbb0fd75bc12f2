"""The websocket protocol's bounded send buffer, on real loopback sockets: a server sends to a
client that never reads until its sends wait; what it got out by then is what the kernel and
the transport hold for that client."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from graphql_server.websocket_protocol import websocket_protocol

MESSAGE = "x" * 1000


async def sent_before_blocked(send_buffer: int) -> int:
    sent = 0

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal sent
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while True:
            await send({"type": "websocket.send", "text": MESSAGE})
            sent += len(MESSAGE)

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_config=None,
        ws=websocket_protocol(send_buffer), ws_ping_interval=None,
    )  # fmt: skip
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    client = await asyncio.to_thread(never_reading_client, port)
    try:
        last = -1
        while sent != last:  # until the sends have waited for half a second
            last = sent
            await asyncio.sleep(0.5)
        return sent
    finally:
        client.close()
        server.should_exit = True
        await serving


def never_reading_client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .encode()
    )  # fmt: skip
    assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    return sock


def test_a_client_that_never_reads_holds_what_the_send_buffer_allows():
    # Linux doubles SO_SNDBUF; the transport holds up to 64 KiB more, the client's receive
    # buffer a few KiB: well under 1 MiB, where autotuning lets it reach 4 MiB.
    sent = asyncio.run(sent_before_blocked(65_536))
    assert 0 < sent < 1024 * 1024


@pytest.mark.skipif(
    int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2]) < 2 * 1024 * 1024,
    reason="the kernel's autotuning stops under 2 MiB here",
)
def test_without_a_bound_the_kernel_holds_megabytes_for_it():
    assert asyncio.run(sent_before_blocked(0)) > 2 * 1024 * 1024
