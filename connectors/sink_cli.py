"""`streamlines sink ...`: copy analytics topics into stores (see connectors/sinks/analytics.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from streamlines.contracts.topics import TOPIC_RIPPLES
from streamlines.settings import Settings

app = typer.Typer(help="Copy analytics topics into stores.", no_args_is_help=True)


@app.command("influx")
def sink_influx(
    topic: Annotated[str, typer.Option(help="Analytics topic to read.")] = TOPIC_RIPPLES,
    bucket: Annotated[str, typer.Option(help="InfluxDB bucket to write.")] = "analytics",
    group_id: Annotated[str, typer.Option(help="Kafka consumer group.")] = "analytics-to-influx",
    exit_when_idle: Annotated[
        float | None, typer.Option(help="Stop after this many seconds without records.")
    ] = None,
) -> None:
    """Copy an analytics topic into InfluxDB (overwriting, never duplicating, on replays)."""
    from connectors.sinks.analytics import run_sink  # heavy clients: imported on use

    counters = run_sink(Settings(), topic, bucket, group_id, exit_when_idle)
    typer.echo(
        f"{counters.read} records read, {counters.written} points written, "
        f"{counters.dead_lettered} dead-lettered",
        err=True,
    )
