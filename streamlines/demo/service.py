"""`streamlines demo`: the README's main command — the whole pipeline on the local stack.

Brings the stack up (Kafka, InfluxDB, Kinesis, Flink, the Alpaca replay feed), submits the
ripples job to the Flink cluster, starts ingest (replay feed → Kafka) and the InfluxDB sink
(analytics.ripples → InfluxDB) and the GraphQL server (queries on InfluxDB, subscriptions on
analytics.ripples), prints the URLs and a live line of counts, and on Ctrl-C (or after
``--duration``) stops everything it started.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from kafka import KafkaConsumer, TopicPartition
from rich.console import Console
from rich.live import Live

from jobs.registry import JOBS
from streamlines.console import make_console
from streamlines.contracts.topics import TOPIC_BARS, TOPIC_QUOTES, TOPIC_RIPPLES, TOPIC_TRADES
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.http import HttpError, request_json
from streamlines.stack.manager import Stack
from streamlines.stack.ports import ensure_port_free
from streamlines.stack.report import print_status
from streamlines.stack.services.flink import METRICS_REFRESH_S, FlinkService

RIPPLES_JOB_NAME = f"ripples {TOPIC_TRADES} {TOPIC_QUOTES}"
# The demo's processes: name (of its log, demo-<name>.log) and `streamlines` arguments.
DEMO_PROCESSES = (
    ("ingest", ("ingest",)),
    ("sink-influx", ("sink", "influx")),
    ("graphql", ("graphql", "serve")),
)
# The topics the live line counts.
STATUS_TOPICS = [TOPIC_TRADES, TOPIC_QUOTES, TOPIC_BARS, TOPIC_RIPPLES]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "streamlines.cli", *args]


def running_ripples_job(settings: Settings) -> str | None:
    jobs = request_json("GET", f"{settings.flink_rest_url}/jobs/overview")["jobs"]
    for job in jobs:
        if job["name"] == RIPPLES_JOB_NAME and job["state"] in ("RUNNING", "CREATED", "RESTARTING"):
            return str(job["jid"])
    return None


def out_of_orderness_s(settings: Settings) -> int:
    """The ripples watermark bound, in event-time seconds, for the feed the demo reads.

    The bound buys wall-clock slack for the job's two sources reading at slightly different
    moments: 2 s on the live feed, but on a replay at N x speed 2 s of event time pass in
    2/N s of wall time, so the demo scales it to about one wall-clock second."""
    if settings.alpaca_api_key and settings.alpaca_secret_key:
        return 2
    speed = settings.replay_speed.strip().lower()
    if speed == "max":
        return 600
    return max(2, math.ceil(float(speed)))


def submit_ripples(settings: Settings, from_time_ms: int) -> str:
    """Submits the ripples job reading what is written to Kafka from ``from_time_ms`` on:
    the demo's own feed. Records of an earlier run are left out: a replay starts again from
    its first day, so an earlier run's last records would move the watermark hours past the
    new ones, and the job would drop those as late."""
    command, env = FlinkService(settings).cli_command(
        "run", "-d", "-py", str(JOBS["ripples"].file),
        "--bootstrap", settings.kafka_bootstrap,
        "--out-of-orderness", str(out_of_orderness_s(settings)),
        "--from-time", str(from_time_ms),
    )  # fmt: skip
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    for line in result.stdout.splitlines():
        if "submitted with JobID" in line:
            return line.rsplit(" ", 1)[-1]
    raise UserError(
        "the ripples job was not accepted by Flink:\n" + (result.stdout + result.stderr)[-2000:],
        hint="see `streamlines stack logs flink`; fix the cause and run `make demo` again.",
    )


class TopicCounter:
    """Records ever written to topics (sum of end offsets); 0 for a topic not created yet."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    def totals(self, topics: list[str]) -> dict[str, int]:
        totals = {}
        for topic in topics:
            partitions = self._consumer.partitions_for_topic(topic) or set()
            ends = self._consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
            totals[topic] = sum(ends.values())
        return totals

    def close(self) -> None:
        self._consumer.close()


class LateCounter:
    """The ripples job's count of rows dropped as late (behind the watermark), asked of Flink
    at most as often as its REST API refreshes metrics."""

    def __init__(self, flink: FlinkService, job_id: str, every: float = METRICS_REFRESH_S) -> None:
        self._flink, self._job_id, self._every = flink, job_id, every
        self._asked_at: float | None = None
        self._value = "…"

    def text(self) -> str:
        now = time.monotonic()
        if self._asked_at is None or now - self._asked_at >= self._every:
            self._asked_at = now
            try:
                self._value = f"{self._flink.late_records_dropped(self._job_id):,}"
            except (HttpError, OSError, KeyError):  # the job restarting, Flink busy
                self._value = "?"
        return self._value


@dataclass
class Started:
    """What the demo started (and so stops): not what was running before it."""

    was_up: set[str]
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    job_id: str | None = None
    submitted: bool = False


def run_demo(settings: Settings, duration: float | None = None, keep_stack: bool = False) -> None:
    """Run the whole pipeline until Ctrl-C (or ``duration`` seconds), then stop what it
    started: the processes, the job if it submitted it, and (unless ``keep_stack``) the
    services that were not up before."""
    err = make_console(stderr=True)
    stack = Stack(settings, err)
    started = Started(was_up={st.name for st in stack.status() if st.state == "healthy"})
    try:
        job_id = _start(settings, stack, started, err)
        _print_urls(settings)
        _watch(settings, started.children, job_id, duration, err)
    except (HttpError, OSError) as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        err.print("\nstopping …")
    finally:
        _stop_children(started.children)
        _stop_rest(settings, stack, started, keep_stack, err)


def _start(settings: Settings, stack: Stack, started: Started, err: Console) -> str:
    """The stack up, the ripples job running, the demo's processes started (recorded in
    ``started`` as they start) and the GraphQL server answering; the job's id."""
    print_status(stack.up())
    job_id = running_ripples_job(settings)
    if job_id is None:
        err.print("Submitting the ripples job to Flink …")
        job_id = started.job_id = submit_ripples(settings, time.time_ns() // 1_000_000)
        started.submitted = True
    err.print(f"[green]✓[/green] ripples job {job_id} running")
    logs = settings.state_dir / "logs"
    ensure_port_free(
        settings.host, settings.graphql_port, "the GraphQL server", "STREAMLINES_GRAPHQL_PORT"
    )
    for name, args in DEMO_PROCESSES:
        log = (logs / f"demo-{name}.log").open("ab")
        started.children.append(subprocess.Popen(_cli(*args), stdout=log, stderr=log))
        err.print(f"[green]✓[/green] {name} started (log: {logs / f'demo-{name}.log'})")
    _wait_for_graphql(settings, started.children[-1])
    return job_id


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        child.send_signal(signal.SIGINT)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


def _stop_rest(
    settings: Settings, stack: Stack, started: Started, keep_stack: bool, err: Console
) -> None:
    """Cancel the job if the demo submitted it; stop the services it started, unless kept."""
    if started.submitted and started.job_id:
        request_json("PATCH", f"{settings.flink_rest_url}/jobs/{started.job_id}?mode=cancel")
        err.print(f"cancelled ripples job {started.job_id}")
    if keep_stack:
        return
    names = [n.name for n in stack.select(None) if n.name not in started.was_up]
    stopped = stack.down(names) if names else []
    if stopped:
        err.print(f"stopped: {', '.join(stopped)}")


def _print_urls(settings: Settings) -> None:
    make_console().print(
        "\n[bold]Stream Lines is running[/bold]\n"
        f"  Kafka          {settings.kafka_bootstrap}  (market.trades/quotes/bars → "
        f"{TOPIC_RIPPLES})\n"
        f"  InfluxDB       {settings.influx_url}  (org {settings.influx_org}, bucket analytics)\n"
        f"  GraphQL        {settings.graphql_url}  (GraphiQL in a browser; subscriptions "
        "over graphql-transport-ws)\n"
        "                 market data needs no key here; for mutations and models: "
        "`streamlines users add NAME` then `streamlines keys create NAME`\n"
        f"  Flink UI       {settings.flink_rest_url}\n"
        f"  Kinesis        {settings.kinesis_endpoint}\n"
        f"  Alpaca replay  {settings.replay_url}\n"
        "  Ctrl-C stops what the demo started.\n"
    )


def _wait_for_graphql(settings: Settings, process: subprocess.Popen[bytes]) -> None:
    health = settings.graphql_url.removesuffix("/graphql") + "/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            request_json("GET", health)
            return
        except (HttpError, OSError):  # not listening yet
            time.sleep(0.3)
    raise UserError(
        "the GraphQL server did not start",
        hint=f"see {settings.state_dir / 'logs' / 'demo-graphql.log'}",
    )


def status_line(totals: Mapping[str, int], late: str) -> str:
    """The demo's live line: records in, ripples out, and rows the job dropped as late."""
    return (
        f"events in: {totals[TOPIC_TRADES]:,} trades, {totals[TOPIC_QUOTES]:,} "
        f"quotes, {totals[TOPIC_BARS]:,} bars   →   "
        f"ripples out: {totals[TOPIC_RIPPLES]:,}   "
        f"dropped as late: {late}"
    )


@contextmanager
def status_display(console: Console) -> Iterator[Live]:
    """Where the live line goes: redrawn in place on a terminal; elsewhere (a file, a pipe)
    printed once, its last state, as a line of its own when the display stops."""
    try:
        with Live(console=console, refresh_per_second=2) as live:
            yield live
    finally:
        if not console.is_terminal:
            console.line()  # rich ends the last state with a newline on a terminal only


def _watch(
    settings: Settings,
    children: list[subprocess.Popen[bytes]],
    job_id: str,
    duration: float | None,
    console: Console,
) -> None:
    deadline = None if duration is None else time.monotonic() + duration
    counter = TopicCounter(settings.kafka_bootstrap)
    late = LateCounter(FlinkService(settings), job_id)
    try:
        with status_display(console) as live:
            while deadline is None or time.monotonic() < deadline:
                dead = [c for c in children if c.poll() is not None]
                if dead:
                    raise _exited(settings, dead[0])
                live.update(status_line(counter.totals(STATUS_TOPICS), late.text()))
                time.sleep(2)
    finally:
        counter.close()


def _exited(settings: Settings, process: subprocess.Popen[bytes]) -> UserError:
    args = process.args if isinstance(process.args, list) else [process.args]
    return UserError(
        f"a demo process exited (code {process.returncode}): {' '.join(map(str, args))}",
        hint=f"see its log under {settings.state_dir / 'logs'} (demo-*.log).",
    )
