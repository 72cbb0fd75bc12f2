"""Run the replay server with uvicorn."""

from __future__ import annotations

import socket

import uvicorn

from connectors.replay.app import build_app
from connectors.replay.state import ServerState


class PortInUseError(OSError):
    pass


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def uvicorn_server(
    state: ServerState, host: str, port: int, log_level: str = "info"
) -> uvicorn.Server:
    config = uvicorn.Config(
        build_app(state),
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level == "debug",
        lifespan="off",
    )
    return uvicorn.Server(config)


def serve(state: ServerState, host: str, port: int, log_level: str = "info") -> None:
    check_port_free(host, port)
    uvicorn_server(state, host, port, log_level).run()
