"""The dashboard's page tests: Debian's chromium, driven by Playwright (its executable path set, no
browser download), against a running pipeline of this package's own, as the demo runs it: a
replay server; 1-minute bars of five symbols gathered from its REST API into a market bucket and
a history topic; the live trades streamed by ``streamlines ingest`` to the ripples job on the
Flink cluster, and its minute bars to the currents job there (indicators, signals, volatility
rounds, after the history); both jobs' records sunk into an analytics bucket by ``streamlines
sink influx``; the GraphQL server on all of it, serving ``dashboard/dist`` at ``/dashboard/``.

``STREAMLINES_CHROMIUM`` names another browser binary; without one the tests are skipped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from influxdb_client import BucketRetentionRules, InfluxDBClient
from kafka.admin import KafkaAdminClient, NewTopic
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from streamlines.child import graphql_server_process, replay_server_process
from streamlines.contracts.topics import dead_letter_topic
from streamlines.settings import Settings
from streamlines.stack.http import request_json
from streamlines.stack.manager import Stack
from streamlines.stack.services.flink import FlinkService
from tests.conftest import delete_topics_starting_with
from tests.support.replay import ReplayServer

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("STREAMLINES_CHROMIUM", "/usr/bin/chromium")

# The history the charts open on (gathered 1-minute bars) and the live session after it.
SYMBOLS = ("GOOG", "SP500", "SYN0001", "SYN0002", "SYN0003")
LIVE_SYMBOLS = ("GOOG", "SP500")
HISTORY = ("2012-01-03", "2012-01-05T23:59:00Z")
LIVE_START = "2012-01-06"
REPLAY_SPEED = 60
# Event seconds the ripples job waits for stragglers: at 60x, 33 ms of wall time.
OUT_OF_ORDERNESS_S = 2
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "streamlines.cli", *args]


# Package scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, and every later test's asyncio.run() would refuse to start.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(
            f"no browser at {CHROMIUM}: install Debian's chromium (`make browser`) or point "
            "STREAMLINES_CHROMIUM at one"
        )
    if not (REPO / "dashboard" / "dist" / "index.html").is_file():
        pytest.fail("the dashboard is not built: run `make dashboard`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert not errors, f"the page threw: {errors}"


@dataclass
class Pipeline:
    """What the package's pipeline runs on, and how to open its dashboard."""

    graphql: str
    replay: ReplayServer
    names: dict[str, str]
    market_bucket: str
    analytics_bucket: str
    ripples_job: str
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def url(self, **params: Any) -> str:
        base = self.graphql.removesuffix("/graphql")
        return f"{base}/dashboard/?{urlencode({k: str(v) for k, v in params.items()})}"


def _create_topics(settings: Settings, names: dict[str, str]) -> None:
    wanted = [
        *names.values(),
        dead_letter_topic(names["trades"]),
        dead_letter_topic(names["quotes"]),
    ]
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in wanted])
    finally:
        admin.close()


def _submit(settings: Settings, *args: str) -> str:
    """A job submitted (detached) to the stack's Flink cluster, once all its tasks run; its id."""
    flink = FlinkService(settings)
    command, env = flink.cli_command("run", "-d", *args)
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    match = re.search(r"JobID ([0-9a-f]{32})", result.stdout)
    assert match, result.stdout[-3000:] + result.stderr[-3000:]
    try:
        # the cluster's two slots are shared: a job may wait a while for another's to end
        flink.wait_until_job_running(match.group(1), timeout=240)
    except BaseException:
        _cancel(settings, match.group(1))
        raise
    return match.group(1)


def _submit_ripples(settings: Settings, names: dict[str, str], group: str) -> str:
    """The ripples job, tuned for latency (as benchmarks/e2e_latency.py)."""
    return _submit(
        settings,
        "-Dpipeline.auto-watermark-interval=50ms", "-Dexecution.buffer-timeout.interval=10ms",
        "-py", str(REPO / "jobs" / "ripples" / "__main__.py"),
        "--bootstrap", settings.kafka_bootstrap,
        "--trades-topic", names["trades"], "--quotes-topic", names["quotes"],
        "--output-topic", names["ripples"], "--group-id", group, "--idle-timeout", "1",
        "--out-of-orderness", str(OUT_OF_ORDERNESS_S),
    )  # fmt: skip


def _submit_currents(settings: Settings, names: dict[str, str], group: str) -> str:
    """The currents job: the gathered history, then the live bars ingest publishes (indicators,
    crossover signals and a volatility round every minute)."""
    return _submit(
        settings,
        "-py", str(REPO / "jobs" / "currents" / "__main__.py"),
        "--bootstrap", settings.kafka_bootstrap, "--history-topic", names["history"],
        "--live-topic", names["bars"], "--output-topic", names["currents"], "--group-id", group,
    )  # fmt: skip


def _cancel(settings: Settings, job_id: str) -> None:
    """Cancel a job and wait until it has stopped (its sources would re-create deleted topics)."""
    url = f"{settings.flink_rest_url}/jobs/{job_id}"
    cancel = urllib.request.Request(f"{url}?mode=cancel", method="PATCH")
    urllib.request.urlopen(cancel, timeout=10).close()
    deadline = time.monotonic() + 60
    while request_json("GET", url, timeout=10)["state"] not in ("CANCELED", "FAILED", "FINISHED"):
        if time.monotonic() > deadline:
            return
        time.sleep(0.5)


def _bucket(influx: InfluxDBClient, settings: Settings, name: str, kind: str) -> str:
    seconds = settings.influx_shard_group_seconds.get(kind)
    rules = None
    if seconds is not None:
        rules = BucketRetentionRules(type="expire", every_seconds=0,
                                     shard_group_duration_seconds=seconds)  # fmt: skip
    influx.buckets_api().create_bucket(bucket_name=name, retention_rules=rules)
    return name


def _delete_groups(settings: Settings, prefix: str) -> None:
    """The consumer groups named with ``prefix`` (jobs', sinks', the tests' own)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        groups = [g["group_id"] for g in admin.list_groups() if g["group_id"].startswith(prefix)]
        if groups:
            admin.delete_groups(groups)
    finally:
        admin.close()


def _delete_buckets(influx: InfluxDBClient, names: list[str]) -> None:
    api = influx.buckets_api()
    for name in names:
        found = api.find_bucket_by_name(name)
        if found is not None:
            api.delete_bucket(found)


@pytest.fixture(scope="package")
def pipeline(
    stack: Stack, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    prefix = f"t-dashboard-{uuid.uuid4().hex[:8]}"
    kinds = ("trades", "quotes", "bars", "history", "ripples", "currents")
    names = {k: f"{prefix}.{k}" for k in kinds}
    logs = tmp_path_factory.mktemp("dashboard-pipeline")
    _create_topics(settings, names)
    influx = InfluxDBClient(
        url=settings.influx_url, token=settings.influx_token.get_secret_value(),
        org=settings.influx_org, timeout=120_000,
    )  # fmt: skip
    buckets = [f"{prefix}-market", f"{prefix}-analytics"]
    with ExitStack() as cleanup:
        cleanup.callback(influx.close)
        cleanup.callback(delete_topics_starting_with, settings.kafka_bootstrap, prefix)
        cleanup.callback(_delete_groups, settings, prefix)
        cleanup.callback(_delete_buckets, influx, buckets)
        market = _bucket(influx, settings, buckets[0], "market")
        analytics = _bucket(influx, settings, buckets[1], "analytics")
        replay_args = ("--symbols", ",".join(LIVE_SYMBOLS), "--speed", str(REPLAY_SPEED),
                       "--start", LIVE_START, "--trades-per-minute", "20",
                       "--universe-size", "5")  # fmt: skip
        port = cleanup.enter_context(
            replay_server_process(*replay_args, log_path=logs / "replay.log")
        )
        env = {**os.environ, "STREAMLINES_REPLAY_PORT": str(port)}
        gather = subprocess.run(
            cli("gather", "--symbols", ",".join(SYMBOLS), "--start", HISTORY[0],
                "--end", HISTORY[1], "--timeframe", "1Min", "--bucket", market,
                "--topic", names["history"]),
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert gather.returncode == 0, gather.stdout[-2000:] + gather.stderr[-2000:]
        job = _submit_ripples(settings, names, prefix)
        cleanup.callback(_cancel, settings, job)
        currents = _submit_currents(settings, names, f"{prefix}-currents")
        cleanup.callback(_cancel, settings, currents)
        graphql = cleanup.enter_context(
            graphql_server_process(
                {
                    "STREAMLINES_GATHER_BUCKET": market,
                    "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": analytics,
                    "STREAMLINES_GRAPHQL_RIPPLES_TOPIC": names["ripples"],
                    "STREAMLINES_GRAPHQL_CURRENTS_TOPIC": names["currents"],
                },
                log_path=logs / "graphql.log",
            )
        )
        made = Pipeline(graphql, ReplayServer(port), names, market, analytics, job, logs)

        def stop_processes() -> None:
            for process in made.processes:
                process.terminate()
                process.wait(30)

        cleanup.callback(stop_processes)
        # the sinks of the demo: currents and ripples records into the analytics bucket
        for kind in ("currents", "ripples"):
            sink_log = cleanup.enter_context(open(logs / f"sink-{kind}.log", "wb"))
            sink = cli("sink", "influx", "--topic", names[kind], "--bucket", analytics,
                       "--measurement", kind, "--group-id", f"{prefix}-sink-{kind}")  # fmt: skip
            made.processes.append(subprocess.Popen(sink, stdout=sink_log, stderr=subprocess.STDOUT))
        yield made


@pytest.fixture(scope="package")
def live_pipeline(pipeline: Pipeline) -> Iterator[Pipeline]:
    """The pipeline with trades flowing: ``streamlines ingest`` of the live symbols from the
    replay server into the trades topic (ripples on the cluster publish bars from them) until the
    package's tests end. The replay server records when it sent each trade."""
    pipeline.replay.call("POST", "/control/send-log")
    env = {
        **os.environ,
        "STREAMLINES_REPLAY_PORT": str(pipeline.replay.port),
        "STREAMLINES_INGEST_TOPIC_TRADES": pipeline.names["trades"],
        "STREAMLINES_INGEST_TOPIC_QUOTES": pipeline.names["quotes"],
        "STREAMLINES_INGEST_TOPIC_BARS": pipeline.names["bars"],
    }
    with open(pipeline.logs / "ingest.log", "wb") as log:
        ingest = subprocess.Popen(
            cli("ingest", "--symbols", ",".join(LIVE_SYMBOLS), "--crypto", "",
                "--duration", "1800"),
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        pipeline.processes.append(ingest)
        time.sleep(3)
        assert ingest.poll() is None, (pipeline.logs / "ingest.log").read_text()[-2000:]
        yield pipeline
