"""`streamlines stack up | down | status | logs | env | install | browser`."""

from __future__ import annotations

import subprocess
import sys
from typing import Annotated

import typer

from streamlines.console import make_console
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.browser import ensure_browser
from streamlines.stack.manager import SERVICE_NAMES, Stack
from streamlines.stack.report import print_status, shell_exports

app = typer.Typer(help="Run the local services (Kafka, InfluxDB, Flink, PostgreSQL…) as processes.",
                  no_args_is_help=True)  # fmt: skip
SERVICES_HELP = f"Services to act on (default: all of {', '.join(SERVICE_NAMES)})."
Services = Annotated[list[str] | None, typer.Argument(help=SERVICES_HELP, show_default=False)]
err = make_console(stderr=True)


@app.command()
def install(services: Services = None) -> None:
    """Download or build what the services need (cached; the first time takes minutes)."""
    Stack(Settings(), err).install(services)
    err.print("[green]✓[/green] everything installed")


@app.command()
def browser() -> None:
    """Debian's chromium for the dashboard's page tests: installed when missing (as root), else
    the command to run."""
    ensure_browser(Settings(), err)


@app.command()
def up(services: Services = None) -> None:
    """Install what is missing, start what is not running, wait until all are healthy."""
    print_status(Stack(Settings(), err).up(services))


@app.command()
def down(services: Services = None) -> None:
    """Stop the services (their data stays, so `up` resumes where they were)."""
    stopped = Stack(Settings(), err).down(services)
    err.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status(services: Services = None) -> None:
    """Health of each service; exits 1 if any is not healthy."""
    statuses = Stack(Settings(), err).status(services)
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
    files = [f for f in Stack(Settings(), err).log_files(services) if f.exists()]
    if not files:
        raise UserError("no logs yet", hint="run `streamlines stack up` first")
    command = ["tail", f"-n{lines}", *(["-F"] if follow else []), *map(str, files)]
    raise typer.Exit(code=subprocess.call(command, stdout=sys.stdout))


@app.command()
def env() -> None:
    """Print shell exports for this stack: `eval "$(streamlines stack env)"`, then `flink run`."""
    for line in shell_exports(Settings()):
        print(line)
