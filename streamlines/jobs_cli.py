"""`streamlines jobs submit <job>`: the same as `flink run -py jobs/<job>.py …` against the
local cluster (or `--local`: the job's own mini-cluster)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from streamlines.settings import Settings

JOBS_DIR = Path(__file__).resolve().parents[1] / "jobs"

app = typer.Typer(help="Submit the PyFlink jobs (ripples, …).", no_args_is_help=True)


def available_jobs() -> list[str]:
    return sorted(p.stem for p in JOBS_DIR.glob("*.py") if not p.stem.startswith("_"))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def submit(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="Job name: a file in jobs/, e.g. ripples.")],
    local: Annotated[bool, typer.Option(help="Run on a local mini-cluster instead.")] = False,
    detached: Annotated[
        bool, typer.Option("--detached/--attached", help="Return once submitted (cluster only).")
    ] = True,
) -> None:
    """Submit a job; extra options go to the job (see `python -m jobs.<job> --help`)."""
    from streamlines.stack.services.flink import FlinkService

    if job not in available_jobs():
        typer.echo(
            f"error: no job {job!r}\n  fix: choose one of {', '.join(available_jobs())}", err=True
        )
        raise typer.Exit(code=2)
    settings = Settings()
    extra = list(ctx.args)
    if local:
        command = [sys.executable, "-m", f"jobs.{job}", "--local", *extra]
        env: dict[str, str] = {}
    else:
        if "--bootstrap" not in extra:
            extra = ["--bootstrap", settings.kafka_bootstrap, *extra]
        flink_args = ["run", *(["-d"] if detached else []), "-py", str(JOBS_DIR / f"{job}.py")]
        command, env = FlinkService(settings).cli_command(*flink_args, *extra)
    typer.echo("$ " + " ".join(command), err=True)
    raise typer.Exit(code=subprocess.call(command, env={**os.environ, **env}))
