"""The demo's jobs on the Flink cluster: ripples (trades and quotes) and currents (live bars),
each reading only what this run's ingest writes (``--from-time``), with the watermark bound
scaled to the replay's speed; found again if already running, submitted otherwise.

currents runs here on the live bars alone. The gathered history is the job's other input, but
in the demo the two do not share a clock: the replay plays 2012 while a backfill may reach
2018, and in one job the watermark is the least of its inputs', so every history bar after the
replay's clock would wait for live bars that never come. The history goes through its own runs
(``streamlines.demo.history``), whose watermark is the history's alone.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jobs.registry import JOBS
from streamlines.connections import kafka_job_arguments
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.http import request_json
from streamlines.stack.services.flink import FlinkService

ACTIVE_STATES = ("RUNNING", "CREATED", "RESTARTING")


@dataclass(frozen=True)
class DemoJob:
    job: str  # the name in jobs.registry
    args: tuple[str, ...]  # the job's arguments
    flink_name: str  # the name the job runs under on the cluster (how a running one is found)


def out_of_orderness_s(settings: Settings) -> int:
    """The watermark bound, in event-time seconds, for the feed the demo reads.

    The bound buys wall-clock slack for the jobs' sources reading at slightly different
    moments: 2 s on the live feed, but on a replay at N x speed 2 s of event time pass in
    2/N s of wall time, so the demo scales it to about one wall-clock second."""
    if settings.alpaca_api_key and settings.alpaca_secret_key:
        return 2
    speed = settings.replay_speed.strip().lower()
    if speed == "max":
        return 600
    return max(2, math.ceil(float(speed)))


def demo_jobs(settings: Settings, from_time_ms: int) -> list[DemoJob]:
    """ripples on ingest's trades and quotes, and currents on ingest's bars (no history topic:
    see the module's docstring), into the topics the GraphQL server reads. Both read what is
    written to Kafka from ``from_time_ms`` on, the demo's own feed: a replay starts again from
    its first day, so an earlier run's last records would move the watermark hours past the
    new ones, and the jobs would drop those as late."""
    common = (
        "--bootstrap", settings.kafka_bootstrap,
        "--out-of-orderness", str(out_of_orderness_s(settings)),
        "--from-time", str(from_time_ms),
    )  # fmt: skip
    trades, quotes = settings.ingest_topic_trades, settings.ingest_topic_quotes
    live, currents = settings.ingest_topic_bars, settings.graphql_currents_topic
    ripples_topics = ("--trades-topic", trades, "--quotes-topic", quotes)
    currents_topics = ("--history-topic", "", "--live-topic", live)
    return [
        DemoJob(
            "ripples",
            (*common, *ripples_topics, "--output-topic", settings.graphql_ripples_topic),
            f"ripples {trades} {quotes}",
        ),
        DemoJob(
            "currents",
            (*common, *currents_topics, "--output-topic", currents),
            f"currents {live}",
        ),
    ]


def active_jobs(settings: Settings) -> dict[str, str]:
    """The cluster's jobs that run or are about to: name -> id."""
    jobs = request_json("GET", f"{settings.flink_rest_url}/jobs/overview")["jobs"]
    return {str(j["name"]): str(j["jid"]) for j in jobs if j["state"] in ACTIVE_STATES}


def require_slots(settings: Settings, needed: list[DemoJob], running: dict[str, str]) -> None:
    """A job without a task slot would wait (and restart) without a word: say so instead."""
    if not needed:
        return
    free = int(request_json("GET", f"{settings.flink_rest_url}/overview")["slots-available"])
    if free >= len(needed):
        return
    names = ", ".join(job.job for job in needed)
    others = ", ".join(running) or "none"
    raise UserError(
        f"the Flink cluster has {free} free task slot(s) and the demo needs {len(needed)} "
        f"({names}); jobs running: {others}",
        hint=f"cancel jobs you no longer need (Flink UI {settings.flink_rest_url}), or give the "
        "TaskManager more slots: `streamlines stack down flink && "
        "STREAMLINES_FLINK_TASKMANAGER_SLOTS=4 streamlines stack up flink`.",
    )


def submit(settings: Settings, job: DemoJob) -> str:
    """``flink run -d`` of the job (with the settings' Kafka security, see
    ``kafka_job_arguments``); its id."""
    with tempfile.TemporaryDirectory(prefix="streamlines-demo-") as secret_dir:
        kafka = kafka_job_arguments(settings, Path(secret_dir))
        command, env = FlinkService(settings).cli_command(
            "run", "-d", "-py", str(JOBS[job.job].file), *kafka, *job.args
        )
        result = subprocess.run(
            command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
        )
    for line in result.stdout.splitlines():
        if "submitted with JobID" in line:
            return line.rsplit(" ", 1)[-1]
    raise UserError(
        f"the {job.job} job was not accepted by Flink:\n" + (result.stdout + result.stderr)[-2000:],
        hint="see `streamlines stack logs flink`; fix the cause and run `make demo` again.",
    )


def wait_until_running(settings: Settings, name: str, job_id: str, timeout: float = 180) -> None:
    """Until every task of the job runs: a job is RUNNING once scheduled, its tasks only once
    they have slots (another client may take the last one after ``require_slots``)."""
    try:
        FlinkService(settings).wait_until_job_running(job_id, timeout)
    except TimeoutError as exc:
        raise UserError(
            f"the {name} job did not start: {exc}",
            hint=f"see its exceptions in the Flink UI ({settings.flink_rest_url}/#/job/running) "
            "(no free task slot: cancel jobs you no longer need), then run `make demo` again.",
        ) from None
