"""`streamlines jobs …`: submit a job (`flink run -py jobs/<job>/__main__.py …` against the
cluster, or `--local`: the job's own mini-cluster), list the cluster's jobs, stop one with a
savepoint, cancel one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from jobs.registry import JOBS
from streamlines.console import make_console
from streamlines.settings import Settings
from streamlines.submit.cluster import (
    cancel,
    find_job,
    list_jobs,
    rest_client,
    savepoint_directory,
    stop_with_savepoint,
)
from streamlines.submit.service import restore_from
from streamlines.submit.service import submit as submit_job

app = typer.Typer(
    help="Submit, list, stop (with a savepoint) and cancel the PyFlink jobs (ripples, …).",
    no_args_is_help=True,
)

JobQuery = Annotated[
    str,
    typer.Argument(
        metavar="JOB",
        help="A job id, or the start of a running job's name (e.g. 'ripples market').",
    ),
]


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def submit(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help=f"Job name: {', '.join(JOBS)}.")],
    local: Annotated[bool, typer.Option(help="Run on a local mini-cluster instead.")] = False,
    detached: Annotated[
        bool, typer.Option("--detached/--attached", help="Return once submitted (cluster only).")
    ] = True,
    from_savepoint: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            help="Start from this savepoint (what `streamlines jobs stop` printed) or retained "
            "checkpoint: flink run -s PATH.",
        ),
    ] = None,
    allow_non_restored_state: Annotated[
        bool,
        typer.Option(
            help="With --from-savepoint: leave out state whose operator the job no longer has "
            "(flink run -n), e.g. after removing a metric.",
        ),
    ] = False,
    flink_option: Annotated[
        list[str] | None,
        typer.Option(
            metavar="OPTION",
            help="An option for `flink run` itself, split as a shell would; repeat for more, "
            "e.g. --flink-option='-p 2' --flink-option=-pyfs=deps.zip.",
        ),
    ] = None,
) -> None:
    """Submit a job; any other options go to the job (see `python -m jobs.<job> --help`)."""
    code = submit_job(
        Settings(),
        job,
        list(ctx.args),
        local=local,
        detached=detached,
        restore=restore_from(from_savepoint, allow_non_restored_state),
        flink_options=flink_option or [],
    )
    raise typer.Exit(code=code)


@app.command("list")
def list_command(
    all_jobs: Annotated[
        bool, typer.Option("--all", help="Also the jobs that have ended (as Flink lists them).")
    ] = False,
) -> None:
    """The cluster's running jobs: id, name, state, start time (newest first)."""
    jobs = list_jobs(rest_client(Settings()), include_ended=all_jobs)
    console = make_console()
    if not jobs:
        console.print("no jobs" if all_jobs else "no running jobs")
        return
    table = Table("id", "name", "state", "started", box=None, pad_edge=False)
    for job in jobs:
        table.add_row(job.id, job.name, job.state, job.started)
    console.print(table)


@app.command()
def stop(
    job: JobQuery,
    savepoint_dir: Annotated[
        str | None,
        typer.Option(
            metavar="DIR",
            help="Where the savepoint goes (a path or URI the cluster writes). Default: the "
            "cluster's execution.checkpointing.savepoint-dir (the local stack's: "
            "<state dir>/flink/savepoints).",
        ),
    ] = None,
    drain: Annotated[
        bool,
        typer.Option(
            help="Fire every window first (end of event time): for a job that will not resume. "
            "Do not drain a job you will resume from the savepoint.",
        ),
    ] = False,
) -> None:
    """Stop a job with a savepoint and print its path (for `jobs submit --from-savepoint`)."""
    settings = Settings()
    rest = rest_client(settings)
    found = find_job(rest, job)
    directory = savepoint_directory(settings, rest, savepoint_dir)
    err = make_console(stderr=True)
    with err.status(f"taking a savepoint of {found.name} ({found.id}) in {directory} …"):
        savepoint = stop_with_savepoint(rest, found, directory, drain=drain)
    err.print(f"stopped {found.name} ({found.id}): {savepoint.state}")
    err.print(
        f"resume: streamlines jobs submit {found.name.split(' ')[0]} --from-savepoint "
        f"{savepoint.location} <the job's options>",
        markup=False,
        highlight=False,
    )
    typer.echo(savepoint.location)


@app.command("cancel")
def cancel_command(job: JobQuery) -> None:
    """Cancel a job, without a savepoint (`jobs stop` keeps its state)."""
    rest = rest_client(Settings())
    found = find_job(rest, job)
    state = cancel(rest, found)
    typer.echo(f"{found.name} ({found.id}): {state}")
