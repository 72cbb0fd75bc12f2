"""Run the replay server as a child process on a free port (see ``streamlines.child``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlines.child import child_server, free_port


@contextmanager
def replay_server_process(
    *serve_args: str, log_path: Path | None = None, start_timeout: float = 60.0
) -> Iterator[int]:
    """Start ``python -m connectors.replay serve --port <free> <serve_args>``, wait until
    /healthz answers, yield the port; stop the server on exit."""
    port = free_port()
    args = ["connectors.replay", "serve", "--port", str(port), "--log-level", "warning"]
    with child_server(
        [*args, *serve_args], port, log_path=log_path, start_timeout=start_timeout
    ) as ready:
        yield ready
