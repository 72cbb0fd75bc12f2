"""`streamlines graphql serve`: the GraphQL server (GraphiQL at /graphql)."""

from __future__ import annotations

from typing import Annotated

import typer

from streamlines.settings import Settings

app = typer.Typer(help="The GraphQL query path.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: STREAMLINES_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: STREAMLINES_GRAPHQL_PORT, 8000).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve queries on InfluxDB and live subscriptions on the ripples topic until Ctrl-C."""
    import uvicorn  # heavy: imported on use, so `streamlines --help` stays fast

    from graphql_server.app import create_app
    from streamlines.stack.ports import ensure_port_free

    settings = Settings()
    updates: dict[str, object] = {}
    if host is not None:
        updates["host"] = host
    if port is not None:
        updates["graphql_port"] = port
    settings = settings.model_copy(update=updates)
    ensure_port_free(
        settings.host, settings.graphql_port, "the GraphQL server", "STREAMLINES_GRAPHQL_PORT"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.graphql_port,
        log_level=log_level,
        ws="websockets-sansio",
        log_config=None,
    )
