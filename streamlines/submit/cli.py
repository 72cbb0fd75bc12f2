"""`streamlines jobs submit <job>`: the same as `flink run -py jobs/<job>/__main__.py …` against
the local cluster (or `--local`: the job's own mini-cluster)."""

from __future__ import annotations

from typing import Annotated

import typer

from jobs.registry import JOBS
from streamlines.settings import Settings
from streamlines.submit.service import run_command, submit_command

app = typer.Typer(help="Submit the PyFlink jobs (ripples, …).", no_args_is_help=True)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def submit(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help=f"Job name: {', '.join(JOBS)}.")],
    local: Annotated[bool, typer.Option(help="Run on a local mini-cluster instead.")] = False,
    detached: Annotated[
        bool, typer.Option("--detached/--attached", help="Return once submitted (cluster only).")
    ] = True,
) -> None:
    """Submit a job; extra options go to the job (see `python -m jobs.<job> --help`)."""
    command, env = submit_command(Settings(), job, list(ctx.args), local=local, detached=detached)
    raise typer.Exit(code=run_command(command, env))
