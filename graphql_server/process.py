"""Run the GraphQL server as a child process on a free port (see ``streamlines.child``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from streamlines.child import child_server, free_port


@contextmanager
def graphql_server_process(
    env: Mapping[str, str] | None = None, log_path: Path | None = None
) -> Iterator[str]:
    """Start ``streamlines graphql serve`` on a free port with these STREAMLINES_* variables
    (e.g. another bucket or topic); yield its GraphQL URL once /healthz answers."""
    port = free_port()
    args = ["streamlines.cli", "graphql", "serve", "--port", str(port), "--log-level", "warning"]
    with child_server(args, port, env=env, log_path=log_path):
        yield f"http://127.0.0.1:{port}/graphql"
