"""`streamlines demo`: the README's main command — the whole pipeline on the local stack.

Brings the stack up (Kafka, InfluxDB, Kinesis, Flink, the Alpaca replay feed), submits the
ripples and currents jobs to the Flink cluster (``streamlines.demo.jobs``), starts ingest
(replay feed → Kafka), the InfluxDB sinks (analytics.ripples and analytics.currents → InfluxDB)
and the GraphQL server (queries on InfluxDB, subscriptions on the analytics topics, the
dashboard), computes the gathered history's indicators apart from the live ones
(``streamlines.demo.history``), prints the URLs and a live line of counts, and on Ctrl-C (or
after ``--duration``) stops everything it started.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from kafka import KafkaConsumer, TopicPartition
from rich.console import Console
from rich.live import Live

from connectors.ingest.router import Topics
from connectors.sinks.kafka import ensure_topics
from streamlines.connections import kafka_client_config
from streamlines.console import make_console
from streamlines.contracts.influx import MEASUREMENT_CURRENTS, MEASUREMENT_RIPPLES
from streamlines.contracts.topics import (
    TOPIC_BARS,
    TOPIC_CURRENTS,
    TOPIC_QUOTES,
    TOPIC_RIPPLES,
    TOPIC_TRADES,
)
from streamlines.demo.history import HistoryRuns
from streamlines.demo.jobs import (
    active_jobs,
    demo_jobs,
    require_slots,
    submit,
    wait_until_running,
)
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.http import HttpError, request_json
from streamlines.stack.manager import Stack
from streamlines.stack.ports import ensure_port_free
from streamlines.stack.report import print_status
from streamlines.stack.services.flink import METRICS_REFRESH_S, FlinkService

# The topics the live line counts (the names the demo's processes use by default).
STATUS_TOPICS = [TOPIC_TRADES, TOPIC_QUOTES, TOPIC_BARS, TOPIC_RIPPLES, TOPIC_CURRENTS]
# The chart the printed dashboard URL opens: a symbol the demo plays, at the live bars'
# timeframe.
DASHBOARD_TIMEFRAME = "1Min"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "streamlines.cli", *args]


def demo_processes(settings: Settings) -> list[tuple[str, tuple[str, ...]]]:
    """The demo's processes: name (of its log, demo-<name>.log) and `streamlines` arguments.
    One sink per analytics topic, each its own consumer group."""
    return [
        ("ingest", ("ingest",)),
        ("sink-influx", ("sink", "influx", "--topic", settings.graphql_ripples_topic,
                         "--measurement", MEASUREMENT_RIPPLES)),
        ("sink-currents", ("sink", "influx", "--topic", settings.graphql_currents_topic,
                           "--measurement", MEASUREMENT_CURRENTS,
                           "--group-id", "analytics-to-influx-currents")),
        ("graphql", ("graphql", "serve")),
    ]  # fmt: skip


def server_url(settings: Settings) -> str:
    """The GraphQL server's root (it serves /graphql, /healthz and /dashboard/)."""
    return settings.graphql_url.removesuffix("/graphql")


def dashboard_url(settings: Settings) -> str:
    """The dashboard on a symbol the demo plays (the first stock, else the first crypto)."""
    symbols = [*settings.ingest_symbols, *settings.ingest_crypto]
    query = {"symbol": symbols[0], "timeframe": DASHBOARD_TIMEFRAME} if symbols else {}
    return f"{server_url(settings)}/dashboard/" + (f"?{urlencode(query)}" if query else "")


class TopicCounter:
    """Records ever written to topics (sum of end offsets); 0 for a topic not created yet."""

    def __init__(self, settings: Settings) -> None:
        self._consumer = KafkaConsumer(**kafka_client_config(settings), enable_auto_commit=False)

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
    """The jobs' count of rows dropped as late (behind the watermark), summed, asked of Flink
    at most as often as its REST API refreshes metrics."""

    def __init__(
        self, flink: FlinkService, job_ids: list[str], every: float = METRICS_REFRESH_S
    ) -> None:
        self._flink, self._job_ids, self._every = flink, job_ids, every
        self._asked_at: float | None = None
        self._value = "…"

    def text(self) -> str:
        now = time.monotonic()
        if self._asked_at is None or now - self._asked_at >= self._every:
            self._asked_at = now
            try:
                dropped = sum(self._flink.late_records_dropped(j) for j in self._job_ids)
                self._value = f"{dropped:,}"
            except (HttpError, OSError, KeyError):  # a job restarting, Flink busy
                self._value = "?"
        return self._value


@dataclass
class Started:
    """What the demo started (and so stops): not what was running before it."""

    was_up: set[str]
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    job_ids: dict[str, str] = field(default_factory=dict)  # every job the demo uses: name -> id
    submitted: dict[str, str] = field(default_factory=dict)  # the ones it submitted
    history: HistoryRuns | None = None


def run_demo(settings: Settings, duration: float | None = None, keep_stack: bool = False) -> None:
    """Run the whole pipeline until Ctrl-C (or ``duration`` seconds), then stop what it
    started: the processes, the jobs it submitted, and (unless ``keep_stack``) the services
    that were not up before."""
    err = make_console(stderr=True)
    stack = Stack(settings, err)
    started = Started(was_up={st.name for st in stack.status() if st.state == "healthy"})
    try:
        _start(settings, stack, started, err)
        _print_urls(settings)
        _watch(settings, started, duration, err)
    except (HttpError, OSError) as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        err.print("\nstopping …")
    finally:
        if started.history is not None:
            started.history.stop()
        _stop_children(started.children)
        _stop_rest(settings, stack, started, keep_stack, err)


def _start_jobs(settings: Settings, started: Started, err: Console) -> None:
    """Each demo job found running or submitted (from now on: ``--from-time``)."""
    jobs = demo_jobs(settings, time.time_ns() // 1_000_000)
    running = active_jobs(settings)
    missing = [job for job in jobs if job.flink_name not in running]
    require_slots(settings, missing, running)
    for job in jobs:
        job_id = running.get(job.flink_name)
        if job_id is None:
            err.print(f"Submitting the {job.job} job to Flink …")
            job_id = started.submitted[job.job] = submit(settings, job)
        started.job_ids[job.job] = job_id
    for name, job_id in started.job_ids.items():
        wait_until_running(settings, name, job_id)
        err.print(f"[green]✓[/green] {name} job {job_id} running")


def _start(settings: Settings, stack: Stack, started: Started, err: Console) -> None:
    """The stack up, the jobs running, the demo's processes started (recorded in ``started``
    as they start) and the GraphQL server answering."""
    print_status(stack.up())
    # The jobs refuse input topics that do not exist, and ingest, which makes its topics,
    # starts after them: on a new Kafka they are made here, as ingest would.
    ensure_topics(
        settings,
        Topics.from_settings(settings).with_dead_letters(),
        settings.kafka_topic_partitions,
    )
    _start_jobs(settings, started, err)
    logs = settings.state_dir / "logs"
    ensure_port_free(
        settings.host, settings.graphql_port, "the GraphQL server", "STREAMLINES_GRAPHQL_PORT"
    )
    for name, args in demo_processes(settings):
        log = (logs / f"demo-{name}.log").open("ab")
        started.children.append(subprocess.Popen(_cli(*args), stdout=log, stderr=log))
        err.print(f"[green]✓[/green] {name} started (log: {logs / f'demo-{name}.log'})")
    started.history = HistoryRuns(settings, logs / "demo-currents-history.log")
    _wait_for_graphql(settings, started.children[-1])


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
    """Cancel the jobs the demo submitted; stop the services it started, unless kept."""
    for name, job_id in started.submitted.items():
        request_json("PATCH", f"{settings.flink_rest_url}/jobs/{job_id}?mode=cancel")
        err.print(f"cancelled {name} job {job_id}")
    if keep_stack:
        return
    names = [n.name for n in stack.select(None) if n.name not in started.was_up]
    stopped = stack.down(names) if names else []
    if stopped:
        err.print(f"stopped: {', '.join(stopped)}")


def _print_urls(settings: Settings) -> None:
    make_console().print(
        "\n[bold]Stream Lines is running[/bold]\n"
        f"  Dashboard      {dashboard_url(settings)}\n"
        f"  Kafka          {settings.kafka_bootstrap}  (market.trades/quotes/bars → "
        f"{TOPIC_RIPPLES}, {TOPIC_CURRENTS})\n"
        f"  InfluxDB       {settings.influx_url}  (org {settings.influx_org}, bucket analytics)\n"
        f"  GraphQL        {settings.graphql_url}  (GraphiQL in a browser; subscriptions "
        "over graphql-transport-ws)\n"
        "                 market data needs no key here; for mutations and models: "
        "`streamlines users add NAME` then `streamlines keys create NAME`\n"
        f"  Flink UI       {settings.flink_rest_url}\n"
        f"  Kinesis        {settings.kinesis_endpoint}\n"
        f"  Alpaca replay  {settings.replay_url}\n"
        "  History        `streamlines gather --symbols SP500 --start 1999-01-01` (any range) "
        "while the demo runs: its indicators follow\n"
        "  Ctrl-C stops what the demo started.\n"
    )


def _wait_for_graphql(settings: Settings, process: subprocess.Popen[bytes]) -> None:
    health = server_url(settings) + "/healthz"
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


def status_line(totals: Mapping[str, int], late: str, history: str) -> str:
    """The demo's live line: records in, analytics out, rows the jobs dropped as late, and
    the history runs."""
    return (
        f"events in: {totals[TOPIC_TRADES]:,} trades, {totals[TOPIC_QUOTES]:,} "
        f"quotes, {totals[TOPIC_BARS]:,} bars   →   "
        f"ripples out: {totals[TOPIC_RIPPLES]:,}   currents out: {totals[TOPIC_CURRENTS]:,}   "
        f"dropped as late: {late}   history: {history}"
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


def _watch(settings: Settings, started: Started, duration: float | None, console: Console) -> None:
    assert started.history is not None  # set by _start
    deadline = None if duration is None else time.monotonic() + duration
    counter = TopicCounter(settings)
    late = LateCounter(FlinkService(settings), list(started.job_ids.values()))
    history_topic = settings.gather_topic
    try:
        with status_display(console) as live:
            while deadline is None or time.monotonic() < deadline:
                dead = [c for c in started.children if c.poll() is not None]
                if dead:
                    raise _exited(settings, dead[0])
                totals = counter.totals([*STATUS_TOPICS, history_topic])
                history = started.history.look(totals[history_topic])
                live.update(status_line(totals, late.text(), history))
                time.sleep(2)
    finally:
        counter.close()


def _exited(settings: Settings, process: subprocess.Popen[bytes]) -> UserError:
    args = process.args if isinstance(process.args, list) else [process.args]
    return UserError(
        f"a demo process exited (code {process.returncode}): {' '.join(map(str, args))}",
        hint=f"see its log under {settings.state_dir / 'logs'} (demo-*.log).",
    )
