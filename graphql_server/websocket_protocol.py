"""The websocket protocol the server runs under uvicorn: uvicorn's (websockets' sans-I/O
implementation) with the kernel's send buffer of each websocket connection bounded.

Left to autotuning, Linux lets a connection whose client stops reading hold up to
net.ipv4.tcp_wmem's maximum (4 MiB by default) of unsent updates before a send blocks, so the
subscription's own bounded queue (STREAMLINES_GRAPHQL_SUBSCRIPTION_QUEUE) only starts filling
after megabytes, per connection, in kernel memory. With SO_SNDBUF set, a client that stops
reading blocks the sends after about twice that (Linux doubles the value) plus the transport's
64 KiB, its queue fills and the subscription is ended as too slow.
"""

from __future__ import annotations

import asyncio
import socket
from typing import ClassVar

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class BoundedSendBufferProtocol(WebSocketsSansIOProtocol):
    send_buffer: ClassVar[int] = 0  # bytes; 0: the kernel's autotuning

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if self.send_buffer > 0 and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)
        super().connection_made(transport)


def websocket_protocol(send_buffer: int) -> type[WebSocketsSansIOProtocol]:
    """uvicorn's ``ws`` protocol class with each connection's send buffer set to
    ``send_buffer`` bytes (0: left to the kernel)."""
    return type(
        "BoundedSendBufferProtocol", (BoundedSendBufferProtocol,), {"send_buffer": send_buffer}
    )
