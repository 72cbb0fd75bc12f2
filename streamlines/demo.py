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
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live

from streamlines.contracts.topics import TOPIC_BARS, TOPIC_QUOTES, TOPIC_RIPPLES, TOPIC_TRADES
from streamlines.errors import UserError
from streamlines.jobs_cli import JOBS_DIR
from streamlines.settings import Settings
from streamlines.stack.cli import print_status
from streamlines.stack.http import HttpError, request_json
from streamlines.stack.manager import Stack
from streamlines.stack.ports import ensure_port_free
from streamlines.stack.services.flink import METRICS_REFRESH_S, FlinkService

RIPPLES_JOB_NAME = f"ripples {TOPIC_TRADES} {TOPIC_QUOTES}"


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
        "run", "-d", "-py", str(JOBS_DIR / "ripples.py"),
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
        from kafka import KafkaConsumer

        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    def totals(self, topics: list[str]) -> dict[str, int]:
        from kafka import TopicPartition

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


def demo(
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    keep_stack: Annotated[
        bool, typer.Option(help="Leave the services running when the demo stops.")
    ] = False,
) -> None:
    """Run the whole pipeline locally on the replay feed; Ctrl-C stops what it started."""
    settings = Settings()
    err = Console(stderr=True)
    stack = Stack(settings, err)
    was_up = {st.name for st in stack.status() if st.state == "healthy"}
    children: list[subprocess.Popen[bytes]] = []
    job_id: str | None = None
    submitted = False
    try:
        print_status(stack.up())
        job_id = running_ripples_job(settings)
        if job_id is None:
            err.print("Submitting the ripples job to Flink …")
            job_id, submitted = submit_ripples(settings, time.time_ns() // 1_000_000), True
        err.print(f"[green]✓[/green] ripples job {job_id} running")
        logs = settings.state_dir / "logs"
        ensure_port_free(
            settings.host, settings.graphql_port, "the GraphQL server", "STREAMLINES_GRAPHQL_PORT"
        )
        for name, args in (
            ("ingest", ["ingest"]),
            ("sink-influx", ["sink", "influx"]),
            ("graphql", ["graphql", "serve"]),
        ):
            log = (logs / f"demo-{name}.log").open("ab")
            children.append(subprocess.Popen(_cli(*args), stdout=log, stderr=log))
            err.print(f"[green]✓[/green] {name} started (log: {logs / f'demo-{name}.log'})")
        _wait_for_graphql(settings, children[-1])
        _print_urls(settings)
        _watch(settings, children, job_id, duration)
    except (UserError, HttpError, OSError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        err.print("\nstopping …")
    finally:
        for child in children:
            child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        if submitted and job_id:
            request_json("PATCH", f"{settings.flink_rest_url}/jobs/{job_id}?mode=cancel")
            err.print(f"cancelled ripples job {job_id}")
        if not keep_stack:
            started = [n for n in stack.select(None) if n.name not in was_up]
            stopped = stack.down([s.name for s in started]) if started else []
            if stopped:
                err.print(f"stopped: {', '.join(stopped)}")


def _print_urls(settings: Settings) -> None:
    Console().print(
        "\n[bold]Stream Lines is running[/bold]\n"
        f"  Kafka          {settings.kafka_bootstrap}  (market.trades/quotes/bars → "
        f"{TOPIC_RIPPLES})\n"
        f"  InfluxDB       {settings.influx_url}  (org {settings.influx_org}, bucket analytics)\n"
        f"  GraphQL        {settings.graphql_url}  (GraphiQL in a browser; subscriptions "
        "over graphql-transport-ws)\n"
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


def _watch(
    settings: Settings,
    children: list[subprocess.Popen[bytes]],
    job_id: str,
    duration: float | None,
) -> None:
    topics = [TOPIC_TRADES, TOPIC_QUOTES, TOPIC_BARS, TOPIC_RIPPLES]
    deadline = None if duration is None else time.monotonic() + duration
    counter = TopicCounter(settings.kafka_bootstrap)
    late = LateCounter(FlinkService(settings), job_id)
    try:
        with Live(console=Console(stderr=True), refresh_per_second=2) as live:
            while deadline is None or time.monotonic() < deadline:
                dead = [c for c in children if c.poll() is not None]
                if dead:
                    raise UserError(
                        f"a demo process exited (code {dead[0].returncode}): "
                        f"{' '.join(map(str, dead[0].args))}",
                        hint=f"see its log under {settings.state_dir / 'logs'} (demo-*.log).",
                    )
                totals = counter.totals(topics)
                live.update(
                    f"events in: {totals[TOPIC_TRADES]:,} trades, {totals[TOPIC_QUOTES]:,} "
                    f"quotes, {totals[TOPIC_BARS]:,} bars   →   "
                    f"ripples out: {totals[TOPIC_RIPPLES]:,}   "
                    f"dropped as late: {late.text()}"
                )
                time.sleep(2)
    finally:
        counter.close()
