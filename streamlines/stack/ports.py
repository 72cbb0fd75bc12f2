"""Port checks before a service starts, so a taken port is a clear error, not a crash log."""

from __future__ import annotations

import socket

from streamlines.errors import UserError


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_port_free(host: str, port: int, service: str, setting: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UserError(
                f"{service} cannot start: port {host}:{port} is taken ({exc.strerror}).",
                hint=f"stop whatever listens there (`ss -ltnp 'sport = :{port}'`), "
                f"or choose another port with {setting}=<port>.",
            ) from None
