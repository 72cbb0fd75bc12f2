"""`streamlines graphql serve`: the GraphQL server (GraphiQL at /graphql); `streamlines graphql
schema`: its SDL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from streamlines.settings import load_settings

app = typer.Typer(help="The GraphQL query path.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(
            help="Address to listen on (default: STREAMLINES_GRAPHQL_BIND, else STREAMLINES_HOST)."
        ),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: STREAMLINES_GRAPHQL_PORT, 8000).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve queries on InfluxDB and live subscriptions on the ripples topic until Ctrl-C.

    Refused on a non-loopback --host while a secret is the local stack's default."""
    # The server imports in about 1 s (strawberry, uvicorn, the stores): on use, so that
    # `streamlines --help` stays fast.
    from graphql_server.app import serve as serve_app

    settings = load_settings()
    updates: dict[str, object] = {}
    if host is not None:
        updates["graphql_bind"] = host
    if port is not None:
        updates["graphql_port"] = port
    serve_app(settings.model_copy(update=updates), log_level)


@app.command()
def schema(
    out: Annotated[
        Path | None,
        typer.Option(help="Write the SDL to this file (e.g. graphql_server/schema.graphql)."),
    ] = None,
) -> None:
    """Print the schema's SDL (the API as clients see it), or write it to --out."""
    # As for `serve`: the schema imports in about 1 s.
    from graphql_server.schema import print_schema

    text = print_schema()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)
