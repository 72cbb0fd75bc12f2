"""`streamlines stack up | down | status | logs | env`."""

from __future__ import annotations

import shlex
import subprocess
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.manager import SERVICE_NAMES, ServiceStatus, Stack

app = typer.Typer(help="Run the local services (Kafka, InfluxDB, Flink, Kinesis) as processes.",
                  no_args_is_help=True)  # fmt: skip
SERVICES_HELP = f"Services to act on (default: all of {', '.join(SERVICE_NAMES)})."
Services = Annotated[list[str] | None, typer.Argument(help=SERVICES_HELP, show_default=False)]
err = Console(stderr=True)


def _fail(exc: UserError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc}", highlight=False)
    return typer.Exit(code=1)


def print_status(statuses: list[ServiceStatus]) -> None:
    table = Table(title="Stream Lines local stack")
    for column in ("service", "state", "pid", "memory", "detail"):
        table.add_column(column)
    colours = {"healthy": "green", "down": "red"}
    for st in statuses:
        colour = colours.get(st.state, "yellow")
        table.add_row(
            st.name,
            f"[{colour}]{st.state}[/{colour}]",
            ",".join(map(str, st.pids)) or "-",
            f"{st.rss_bytes / 2**20:.0f} MiB" if st.pids else "-",
            st.detail,
        )
    total = sum(st.rss_bytes for st in statuses)
    Console().print(table)
    Console().print(f"resident memory, all services: {total / 2**30:.2f} GiB")


@app.command()
def install(services: Services = None) -> None:
    """Download or build what the services need (cached; the first time takes minutes)."""
    try:
        Stack(Settings(), err).install(services)
    except UserError as exc:
        raise _fail(exc) from None
    err.print("[green]✓[/green] everything installed")


@app.command()
def up(services: Services = None) -> None:
    """Install what is missing, start what is not running, wait until all are healthy."""
    try:
        statuses = Stack(Settings(), err).up(services)
    except UserError as exc:
        raise _fail(exc) from None
    print_status(statuses)


@app.command()
def down(services: Services = None) -> None:
    """Stop the services (their data stays, so `up` resumes where they were)."""
    try:
        stopped = Stack(Settings(), err).down(services)
    except UserError as exc:
        raise _fail(exc) from None
    err.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status(services: Services = None) -> None:
    """Health of each service; exits 1 if any is not healthy."""
    try:
        statuses = Stack(Settings(), err).status(services)
    except UserError as exc:
        raise _fail(exc) from None
    print_status(statuses)
    if any(st.state != "healthy" for st in statuses):
        raise typer.Exit(code=1)


@app.command()
def logs(
    services: Services = None,
    lines: Annotated[
        int, typer.Option("--lines", "-n", help="Lines from the end of each log.")
    ] = 40,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
) -> None:
    """Show the end of each service's log."""
    try:
        files = [f for f in Stack(Settings(), err).log_files(services) if f.exists()]
    except UserError as exc:
        raise _fail(exc) from None
    if not files:
        err.print("no logs yet: run `streamlines stack up` first")
        raise typer.Exit(code=1)
    command = ["tail", f"-n{lines}", *(["-F"] if follow else []), *map(str, files)]
    raise typer.Exit(code=subprocess.call(command, stdout=sys.stdout))


@app.command()
def env() -> None:
    """Print shell exports for this stack: `eval "$(streamlines stack env)"`, then `flink run`."""
    from streamlines.stack.services.flink import FlinkService, pyflink_home

    settings = Settings()
    exports = FlinkService(settings).client_env()
    exports["PATH"] = f"{pyflink_home() / 'bin'}:$PATH"
    for key, value in exports.items():
        quoted = value if key == "PATH" else shlex.quote(value)
        print(f'export {key}="{quoted}"' if key == "PATH" else f"export {key}={quoted}")
