"""`streamlines demo`: the README's main command.

Today it brings the whole local stack up (Kafka, InfluxDB, Kinesis, Flink and the Alpaca
replay feed) and shows it healthy with the URLs to use; ingest, the ripples job and the
GraphQL server join it as they land.
"""

from __future__ import annotations

import typer
from rich.console import Console

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.cli import print_status
from streamlines.stack.manager import Stack


def demo() -> None:
    """Bring the local stack and the replay feed up, show them healthy, print where they are."""
    settings = Settings()
    err = Console(stderr=True)
    try:
        statuses = Stack(settings, err).up()
    except UserError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(code=1) from None
    print_status(statuses)
    out = Console()
    out.print(
        "\n[bold]Stream Lines is up[/bold]\n"
        f"  Kafka          {settings.kafka_bootstrap}\n"
        f"  InfluxDB       {settings.influx_url}  (org {settings.influx_org}, "
        f"buckets {', '.join(settings.influx_buckets)})\n"
        f"  Flink UI/REST  {settings.flink_rest_url}\n"
        f"  Kinesis        {settings.kinesis_endpoint}\n"
        f"  Alpaca replay  {settings.replay_url}  (ws /v2/iex, REST /v2/stocks/bars)\n"
        "\n  streamlines stack status    health and memory of each service\n"
        "  streamlines stack logs -f   follow the service logs\n"
        '  eval "$(streamlines stack env)"; flink run -py <job.py>   submit a job\n'
        "  streamlines stack down      stop everything (data is kept)\n"
    )
