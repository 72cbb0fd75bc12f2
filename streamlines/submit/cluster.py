"""The jobs on the Flink cluster, through its REST API (``settings.flink_rest_url``): list them,
find one by id or name, stop one with a savepoint, cancel one.

Stopping with a savepoint is Flink's ``POST /jobs/:id/stop``: the job takes a savepoint, its
sources stop, and it finishes; ``GET /jobs/:id/savepoints/:trigger`` says when and where the
savepoint is. ``drain`` also sends the watermark that ends event time first, so every window
fires: for a job that will not resume; one that resumes must not drain (its open windows would
fire early, and the rows still to come for them would be late).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.http import HttpError, request_json

# (method, path under the REST URL, JSON body or None) -> the JSON answer.
Rest = Callable[[str, str, Any], Any]

ACTIVE_STATES = frozenset(
    {"INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "FAILING", "CANCELLING", "RECONCILING"}
)
TERMINAL_STATES = frozenset({"FINISHED", "CANCELED", "FAILED", "SUSPENDED"})
# Where a cluster's configuration puts savepoints by default (Flink 2.0's key, then the older
# one it still reads).
SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
JOB_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class FlinkJob:
    id: str
    name: str
    state: str
    start_ms: int

    @property
    def started(self) -> str:
        """The start time, UTC, to the second."""
        when = datetime.fromtimestamp(self.start_ms / 1000, tz=UTC)
        return when.strftime("%Y-%m-%d %H:%M:%S UTC")

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass(frozen=True)
class Savepoint:
    job: FlinkJob
    location: str  # what `streamlines jobs submit --from-savepoint` takes
    state: str  # the job's state afterwards (FINISHED once it has stopped)


def rest_client(settings: Settings, timeout: float = 10.0) -> Rest:
    """Calls of the cluster's REST API; a UserError when it does not answer."""
    base = settings.flink_rest_url

    def call(method: str, path: str, body: Any = None) -> Any:
        try:
            return request_json(method, base + path, body, timeout=timeout)
        except HttpError as exc:
            raise UserError(
                f"Flink's REST API refused {method} {path}: {exc}",
                "see `streamlines stack logs flink` (or your cluster's JobManager log)",
            ) from None
        except OSError as exc:
            raise UserError(
                f"Flink's REST API at {base} does not answer ({exc})",
                "start the local cluster with `streamlines stack up flink`, or set "
                "STREAMLINES_FLINK_ADDRESS to your cluster's REST URL",
            ) from None

    return call


def parse_jobs(overview: dict[str, Any]) -> list[FlinkJob]:
    """The jobs of ``GET /jobs/overview``, newest first."""
    jobs = [
        FlinkJob(str(j["jid"]), str(j["name"]), str(j["state"]), int(j.get("start-time", 0)))
        for j in overview.get("jobs", [])
    ]
    return sorted(jobs, key=lambda job: job.start_ms, reverse=True)


def list_jobs(rest: Rest, *, include_ended: bool = False) -> list[FlinkJob]:
    """The cluster's jobs that run (or are about to), newest first; with ``include_ended``,
    the finished, cancelled and failed ones it still lists too."""
    jobs = parse_jobs(rest("GET", "/jobs/overview", None))
    return jobs if include_ended else [job for job in jobs if job.active]


def match_job(jobs: Sequence[FlinkJob], query: str) -> FlinkJob:
    """The job ``query`` names among ``jobs``: its id, its whole name, or the start of the name
    of exactly one of the active ones; else a UserError that lists the candidates."""
    by_id = [job for job in jobs if job.id == query.lower()]
    if by_id:
        return by_id[0]
    active = [job for job in jobs if job.active]
    exact = [job for job in active if job.name == query]
    matches = exact or [job for job in active if job.name.startswith(query)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        running = "; ".join(f"{job.id} {job.name}" for job in active) or "none"
        hint = (
            "give a job id (32 hex digits)"
            if JOB_ID.fullmatch(query.lower())
            else "give a job id or the start of a running job's name"
        )
        raise UserError(
            f"no running Flink job has the id or a name starting with {query!r} "
            f"(running: {running})",
            f"{hint}; `streamlines jobs list` shows them",
        )
    listed = "; ".join(f"{job.id} {job.name}" for job in matches)
    raise UserError(
        f"{len(matches)} running Flink jobs have names starting with {query!r}: {listed}",
        "give more of the name, or the job's id",
    )


def find_job(rest: Rest, query: str) -> FlinkJob:
    """The job ``query`` names (see ``match_job``), among every job the cluster lists."""
    return match_job(list_jobs(rest, include_ended=True), query)


def configured_savepoint_dir(config: Sequence[dict[str, Any]]) -> str | None:
    """The default savepoint directory in ``GET /jobmanager/config`` (a list of
    ``{"key", "value"}``), if the cluster has one."""
    values = {str(entry.get("key")): str(entry.get("value") or "") for entry in config}
    return next((values[key] for key in SAVEPOINT_DIR_KEYS if values.get(key)), None)


def savepoint_directory(settings: Settings, rest: Rest, given: str | None) -> str:
    """Where a savepoint goes: ``given`` (a local path becomes an absolute file URI); else the
    cluster's default (``execution.checkpointing.savepoint-dir``, which `streamlines stack
    up` sets to the state dir's ``flink/savepoints``); else that folder, for the local stack."""
    if given:
        if urlparse(given).scheme:
            return given
        return Path(given).expanduser().resolve().as_uri()
    configured = configured_savepoint_dir(rest("GET", "/jobmanager/config", None))
    if configured:
        return configured
    if settings.flink_address is not None:
        raise UserError(
            f"the Flink cluster at {settings.flink_rest_url} has no default savepoint directory "
            "(execution.checkpointing.savepoint-dir)",
            "pass --savepoint-dir with a directory the JobManager and TaskManagers can write "
            "(e.g. s3://bucket/savepoints or a shared volume)",
        )
    return (settings.state_dir / "flink" / "savepoints").as_uri()


def savepoint_status(answer: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(status, location, failure) of ``GET /jobs/:id/savepoints/:trigger``: status is
    IN_PROGRESS or COMPLETED; a completed one has either a location or a failure (the
    exception's first line, the most specific cause Flink gives)."""
    status = str(answer.get("status", {}).get("id", "IN_PROGRESS"))
    operation = answer.get("operation") or {}
    location = operation.get("location")
    failure = operation.get("failure-cause")
    message = None
    if failure:
        trace = str(failure.get("stack-trace") or failure.get("class") or "unknown failure")
        causes = [line for line in trace.splitlines() if line.startswith("Caused by:")]
        message = causes[-1].removeprefix("Caused by: ") if causes else trace.splitlines()[0]
    return status, (str(location) if location else None), message


def stop_with_savepoint(
    rest: Rest,
    job: FlinkJob,
    directory: str,
    *,
    drain: bool = False,
    timeout_s: float = 300.0,
    poll_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Savepoint:
    """Stops ``job`` with a savepoint in ``directory`` and waits until it has ended; a
    UserError if Flink refuses or the savepoint fails (the job then runs on)."""
    if not job.active:
        raise UserError(
            f"Flink job {job.id} ({job.name}) is {job.state}, not running",
            "stop a running job (`streamlines jobs list`); a job that has ended keeps its last "
            "checkpoint, if any, in the cluster's checkpoint directory",
        )
    body = {"targetDirectory": directory, "drain": drain, "formatType": "CANONICAL"}
    trigger = rest("POST", f"/jobs/{job.id}/stop", body)["request-id"]
    deadline = clock() + timeout_s
    while True:
        status, location, failure = savepoint_status(
            rest("GET", f"/jobs/{job.id}/savepoints/{trigger}", None)
        )
        if status == "COMPLETED":
            break
        if clock() >= deadline:
            raise UserError(
                f"the savepoint of job {job.id} ({job.name}) was not done after {timeout_s:g} s",
                "it may still complete: see the job's checkpoints in the Flink UI, and "
                "`streamlines jobs list`",
            )
        sleep(poll_s)
    if failure or not location:
        raise UserError(
            f"the savepoint of job {job.id} ({job.name}) failed: {failure}; the job runs on",
            "see `streamlines stack logs flink`; a savepoint needs every task running (free "
            "task slots) and a directory the cluster can write (--savepoint-dir)",
        )
    state = wait_until_ended(rest, job.id, timeout_s=60.0, sleep=sleep, clock=clock)
    return Savepoint(job, location, state)


def wait_until_ended(
    rest: Rest,
    job_id: str,
    *,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """The job's state once it is terminal (FINISHED, CANCELED, FAILED), or the last one seen
    after ``timeout_s``."""
    deadline = clock() + timeout_s
    while True:
        state = str(rest("GET", f"/jobs/{job_id}", None)["state"])
        if state in TERMINAL_STATES or clock() >= deadline:
            return state
        sleep(0.5)


def cancel(rest: Rest, job: FlinkJob, *, timeout_s: float = 60.0) -> str:
    """Cancels ``job`` (no savepoint: its state is gone unless a retained checkpoint has it);
    its state afterwards."""
    if not job.active:
        raise UserError(
            f"Flink job {job.id} ({job.name}) is {job.state}, not running",
            "`streamlines jobs list` shows the running ones",
        )
    rest("PATCH", f"/jobs/{job.id}?mode=cancel", None)
    return wait_until_ended(rest, job.id, timeout_s=timeout_s)


def innermost_cause(trace: str) -> str:
    """The most specific line of a Java stack trace: its last ``Caused by:``, else its first
    line."""
    causes = [line for line in trace.splitlines() if line.startswith("Caused by:")]
    return causes[-1].removeprefix("Caused by: ") if causes else (trace.splitlines() or [""])[0]


def check_restored(
    rest: Rest,
    job_id: str,
    *,
    timeout_s: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Waits until a job submitted from a savepoint is past its initialization, where Flink maps
    the savepoint's state to the job's operators (``flink run -d`` returns before that); its
    state then, or a UserError with Flink's reason if it failed there."""
    deadline = clock() + timeout_s
    while True:
        state = str(rest("GET", f"/jobs/{job_id}", None)["state"])
        if state != "INITIALIZING" or clock() >= deadline:
            break
        sleep(0.5)
    if state != "FAILED":
        return state
    exceptions = rest("GET", f"/jobs/{job_id}/exceptions", None)
    reason = innermost_cause(str(exceptions.get("root-exception") or "no reason given"))
    raise UserError(
        f"Flink job {job_id} failed to start from the savepoint: {reason}",
        "a state whose operator the job no longer has means the job's SQL or its Python "
        "operators' uids changed: see docs/cluster.md, 'Upgrading a job' "
        "(--allow-non-restored-state drops that state)",
    )
