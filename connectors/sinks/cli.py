"""`streamlines sink ...`: copy analytics topics into stores (``connectors.sinks.analytics``).
Argument parsing only."""

from __future__ import annotations

from typing import Annotated

import typer

from streamlines.contracts.topics import TOPIC_RIPPLES
from streamlines.settings import Settings

app = typer.Typer(help="Copy analytics topics into stores.", no_args_is_help=True)


@app.command("influx")
def sink_influx(
    topic: Annotated[str, typer.Option(help="Analytics topic to read.")] = TOPIC_RIPPLES,
    bucket: Annotated[
        str | None,
        typer.Option(
            help="InfluxDB bucket to write (default: the measurement's: analytics, or "
            "predictions for predictions)."
        ),
    ] = None,
    group_id: Annotated[str, typer.Option(help="Kafka consumer group.")] = "analytics-to-influx",
    measurement: Annotated[
        str | None,
        typer.Option(
            help="InfluxDB measurement to write (default: the topic's: analytics.ripples -> "
            "ripples, analytics.currents -> currents, analytics.beacons -> beacons, "
            "analytics.predictions -> predictions; "
            "required for any other topic)."
        ),
    ] = None,
    exit_when_idle: Annotated[
        float | None, typer.Option(help="Stop after this many seconds without records.")
    ] = None,
) -> None:
    """Copy an analytics topic into InfluxDB (overwriting, never duplicating, on replays)."""
    # Imported on use: the Kafka and InfluxDB clients take ~0.25 s, which every other
    # `streamlines` command would pay at start.
    from connectors.sinks.analytics import run_sink

    counters = run_sink(
        Settings(), topic, bucket, group_id, exit_when_idle, measurement=measurement
    )
    typer.echo(
        f"{counters.read} records read, {counters.written} points written, "
        f"{counters.dead_lettered} dead-lettered",
        err=True,
    )
