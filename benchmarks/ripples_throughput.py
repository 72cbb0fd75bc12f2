"""ripples throughput in trades/s per TaskManager slot, from a pre-filled topic to both sinks.

Pre-fills two fresh topics (``benchmarks/workload.py``) with ``--trades`` trades and a quote per
trade: **intraday trades generated from real daily bars** (GOOG, S&P 500, NASDAQ; EUR/USD from
real hourly bars) by ``connectors.replay.synth``, as the tests make them. Then, ``--runs`` times
on the same input:

1. **Flink**: ``flink run -py jobs/ripples/__main__.py --bounded --parallelism 1`` on the local
   standalone cluster, to a fresh output topic. The job's time is Flink's own (``duration`` of
   ``/jobs/<id>`` in the REST API: from the job's creation on the JobManager to its end), so
   the Python client's start-up and planning are not in it. Figure: trades / job seconds
   (per slot: the job runs with parallelism 1, so in one slot).
2. **InfluxDB**: ``run_sink`` (``streamlines sink influx``) copies that output topic into a
   fresh bucket; timed from the call until the consumer group has committed the topic's last
   offset (the sink commits only after InfluxDB accepted the points). Figure: records/s.
3. End to end, both sinks: trades / (job seconds + sink seconds), i.e. the stages one after the
   other (on 2 cores, running them at the same time mostly shares the same CPUs).

Then (unless ``--no-baseline``) ``benchmarks/python_baseline.py`` runs ``--runs`` times on the
same trades topic, and the Flink/Python ratio is printed. Everything it creates (topics, consumer
groups, buckets) is deleted at the end.

The stack may be shared: before each measurement the script waits (``--quiet-wait``) for the
machine to be at least 85 % idle, and it prints where the CPU went during each measurement (each
stack service, this benchmark, everything else) and any other Flink job that ran meanwhile, so
a disturbed run shows. ``-D key=value`` passes a Flink option to the job (to try a setting).

    python -m benchmarks.ripples_throughput [--trades 1000000] [--runs 3] [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from influxdb_client import InfluxDBClient
from kafka.admin import KafkaAdminClient
from rich.console import Console

if __package__ in (None, ""):  # run as a file: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.python_baseline import run_baselines
from benchmarks.workload import (
    DEFAULT_TRADES,
    DEFAULT_TRADES_PER_MINUTE,
    CpuMeter,
    Workload,
    add_quiet_wait_option,
    delete_consumer_groups,
    delete_topics,
    prefilled,
    topic_size,
    wait_for_quiet,
)
from connectors.sinks.analytics import run_sink
from jobs.registry import find_job
from streamlines.console import make_console
from streamlines.contracts.influx import MEASUREMENT_RIPPLES
from streamlines.settings import Settings
from streamlines.stack.http import request_json
from streamlines.stack.services.flink import FlinkService

JOB = find_job("ripples").file
TARGET_PER_SLOT = 150_000  # trades/s per TaskManager slot (the project's target)


@dataclass(frozen=True)
class JobResult:
    job_id: str
    seconds: float  # Flink's duration of the job
    client_seconds: float  # the whole `flink run` command, client start-up included
    records: int  # records in the output topic
    overlapping: tuple[str, ...] = ()  # other jobs that ran on the cluster at the same time


@dataclass(frozen=True)
class SinkResult:
    records: int
    seconds: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds


@dataclass(frozen=True)
class RunResult:
    trades: int
    job: JobResult
    sink: SinkResult
    others: float  # cores used by processes outside the stack and this benchmark
    flink_cpu_seconds: float  # CPU the Flink cluster (JobManager + TaskManager) used meanwhile

    @property
    def flink_cores(self) -> float:
        """Cores the cluster kept busy while the job ran."""
        return self.flink_cpu_seconds / self.job.seconds

    @property
    def trades_per_flink_cpu_s(self) -> float:
        return self.trades / self.flink_cpu_seconds if self.flink_cpu_seconds else 0.0

    @property
    def trades_per_s(self) -> float:
        return self.trades / self.job.seconds

    @property
    def end_to_end_trades_per_s(self) -> float:
        return self.trades / (self.job.seconds + self.sink.seconds)


def running_jobs(settings: Settings) -> list[str]:
    overview = request_json("GET", f"{settings.flink_rest_url}/jobs/overview", timeout=10)
    return [j["name"] for j in overview.get("jobs", []) if j.get("state") == "RUNNING"]


def overlapping_jobs(settings: Settings, job: dict) -> tuple[str, ...]:
    """Other jobs that were running on the cluster while ``job`` ran (they share its CPUs)."""
    overview = request_json("GET", f"{settings.flink_rest_url}/jobs/overview", timeout=10)
    start, end = job["start-time"], job["end-time"]
    return tuple(
        j["name"]
        for j in overview.get("jobs", [])
        if j["jid"] != job["jid"]
        and j["start-time"] < end
        and (j["end-time"] < 0 or j["end-time"] > start)
    )


def run_job(
    settings: Settings,
    workload: Workload,
    output_topic: str,
    group_id: str,
    parallelism: int,
    extra_flink_args: list[str],
) -> JobResult:
    return run_flink_script(
        settings, JOB,
        ["--bootstrap", settings.kafka_bootstrap,
         "--trades-topic", workload.trades_topic, "--quotes-topic", workload.quotes_topic,
         "--output-topic", output_topic, "--group-id", group_id,
         "--bounded", "--parallelism", str(parallelism)],
        output_topic, extra_flink_args,
    )  # fmt: skip


def run_flink_script(
    settings: Settings,
    script: Path,
    script_args: list[str],
    output_topic: str,
    extra_flink_args: list[str] | None = None,
) -> JobResult:
    """``flink run [extra_flink_args] -py script script_args`` on the stack's cluster, until
    the (bounded) job has finished; timed by Flink's job duration."""
    command, env = FlinkService(settings).cli_command(
        "run", *(extra_flink_args or []), "-py", str(script), *script_args
    )
    started = time.perf_counter()
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=7200
    )
    client_seconds = time.perf_counter() - started
    match = re.search(r"JobID ([0-9a-f]{32})", result.stdout + result.stderr)
    if result.returncode != 0 or not match:
        raise SystemExit(
            f"flink run failed (exit {result.returncode}):\n"
            + result.stdout[-3000:]
            + result.stderr[-3000:]
        )
    job_id = match.group(1)
    job = request_json("GET", f"{settings.flink_rest_url}/jobs/{job_id}", timeout=10)
    if job.get("state") != "FINISHED":
        raise SystemExit(f"job {job_id} ended {job.get('state')}, not FINISHED")
    return JobResult(
        job_id=job_id,
        seconds=job["duration"] / 1000,
        client_seconds=client_seconds,
        records=topic_size(settings, output_topic),
        overlapping=overlapping_jobs(settings, job),
    )


def committed(admin: KafkaAdminClient, group_id: str) -> int:
    offsets = admin.list_group_offsets({group_id: None}).get(group_id, {})
    return sum(o.offset for o in offsets.values() if o is not None and o.offset > 0)


def run_influx_sink(
    settings: Settings, topic: str, bucket: str, group_id: str, expected: int
) -> SinkResult:
    """``run_sink`` until its group has committed all ``expected`` records."""
    stop = threading.Event()
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(
                run_sink,
                settings,
                topic=topic,
                bucket=bucket,
                measurement=MEASUREMENT_RIPPLES,
                group_id=group_id,
                exit_when_idle=60.0,  # a safety net only: normally `stop` ends it
                stop=stop,
            )
            finished_at = None
            while not future.done():
                if committed(admin, group_id) >= expected:
                    finished_at = time.perf_counter()
                    stop.set()
                    break
                time.sleep(0.2)
            counters = future.result()
    finally:
        stop.set()
        admin.close()
    if finished_at is None or counters.dead_lettered:
        raise SystemExit(
            f"the sink stopped before copying {expected:,} records: {counters.written:,} "
            f"written, {counters.dead_lettered:,} dead-lettered"
        )
    return SinkResult(records=counters.written, seconds=finished_at - started)


def one_run(
    settings: Settings,
    workload: Workload,
    influx: InfluxDBClient,
    run: int,
    parallelism: int,
    extra_flink_args: list[str],
    console: Console,
    quiet_wait: float,
) -> RunResult:
    name = f"{workload.prefix}-run{run}"
    output_topic = f"{name}-ripples"
    bucket = None
    try:
        wait_for_quiet(console, quiet_wait)
        with (
            console.status(f"run {run}: ripples on Flink ({workload.trades:,} trades)"),
            CpuMeter(settings) as job_cpu,
        ):
            job = run_job(
                settings, workload, output_topic, f"{name}-flink", parallelism, extra_flink_args
            )
        bucket = influx.buckets_api().create_bucket(bucket_name=name, org=settings.influx_org)
        wait_for_quiet(console, quiet_wait)
        with (
            console.status(f"run {run}: {job.records:,} records into InfluxDB"),
            CpuMeter(settings) as sink_cpu,
        ):
            sink = run_influx_sink(settings, output_topic, name, f"{name}-influx", job.records)
    finally:
        if bucket is not None:
            influx.buckets_api().delete_bucket(bucket)
        delete_topics(settings, [output_topic, f"{output_topic}.dlq"])
        delete_consumer_groups(settings, [f"{name}-flink", f"{name}-influx"])
    result = RunResult(
        trades=workload.trades,
        job=job,
        sink=sink,
        others=max(job_cpu.others, sink_cpu.others),
        flink_cpu_seconds=job_cpu.cpu_seconds.get("flink", 0.0),
    )
    per_slot = result.trades_per_s / parallelism
    console.print(
        f"run {run}: job {job.seconds:.1f} s ({job.client_seconds:.1f} s with the flink client) "
        f"= {per_slot:,.0f} trades/s per slot, {job.records:,} records | "
        f"InfluxDB sink {sink.seconds:.1f} s = {sink.records_per_s:,.0f} records/s | "
        f"end to end {result.end_to_end_trades_per_s:,.0f} trades/s"
    )
    console.print(f"  during the job: {job_cpu.summary()}")
    console.print(f"  during the sink: {sink_cpu.summary()}")
    if job.overlapping:
        console.print(
            f"[yellow]  run {run} shared the cluster with {len(job.overlapping)} other job(s): "
            f"{', '.join(job.overlapping)}[/yellow]"
        )
    return result


def _figures(values: list[float], fmt: str = ",.0f") -> str:
    runs = ", ".join(f"{v:{fmt}}" for v in values)
    return f"median {statistics.median(values):{fmt}} (runs: {runs})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--trades", type=int, default=DEFAULT_TRADES, help="trades to pre-fill")
    parser.add_argument(
        "--trades-per-minute",
        type=int,
        default=DEFAULT_TRADES_PER_MINUTE,
        help="trades per symbol and minute of event time",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parallelism", type=int, default=1, help="the job's parallelism")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the plain Python consumer baseline"
    )
    parser.add_argument(
        "-D",
        dest="flink_options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Flink option for the job (passed to `flink run -D`); repeatable",
    )
    add_quiet_wait_option(parser)
    args = parser.parse_args(argv)
    settings = Settings()
    console = make_console()

    others = running_jobs(settings)
    if others:
        console.print(
            f"[yellow]note: {len(others)} other job(s) running on the cluster share its CPU: "
            f"{', '.join(others)}[/yellow]"
        )
    extra_flink_args = [f"-D{option}" for option in args.flink_options]
    with (
        InfluxDBClient(
            url=settings.influx_url,
            token=settings.influx_token.get_secret_value(),
            org=settings.influx_org,
        ) as influx,
        prefilled(settings, args.trades, args.trades_per_minute, console) as workload,
    ):
        runs = [
            one_run(
                settings,
                workload,
                influx,
                run,
                args.parallelism,
                extra_flink_args,
                console,
                args.quiet_wait,
            )
            for run in range(1, args.runs + 1)
        ]
        baseline = (
            []
            if args.no_baseline
            else run_baselines(settings, workload.trades_topic, args.runs, console, workload.prefix)
        )

    per_slot = [r.trades_per_s / args.parallelism for r in runs]
    console.print()
    console.print(
        f"ripples, {workload.trades:,} trades + {workload.quotes:,} quotes "
        f"({', '.join(workload.symbols)}), parallelism {args.parallelism}, {args.runs} runs"
    )
    console.print(f"  job seconds (Flink):        {_figures([r.job.seconds for r in runs], '.1f')}")
    console.print(f"  trades/s per slot:          {_figures(per_slot)}")
    console.print(
        f"  vs target {TARGET_PER_SLOT:,}/s per slot:  "
        f"{statistics.median(per_slot) / TARGET_PER_SLOT:.2f}x of target"
    )
    console.print(f"  records out per run:        {runs[0].job.records:,}")
    console.print(
        f"  Flink CPU during the job:   {_figures([r.flink_cores for r in runs], '.2f')} cores"
    )
    console.print(
        f"  trades per Flink CPU-s:     {_figures([r.trades_per_flink_cpu_s for r in runs])}"
    )
    console.print(f"  InfluxDB sink records/s:    {_figures([r.sink.records_per_s for r in runs])}")
    console.print(
        f"  end to end trades/s:        {_figures([r.end_to_end_trades_per_s for r in runs])}"
    )
    busy = max([r.others for r in runs] + [b.others for b in baseline])
    console.print(
        f"  CPU used by other processes during the measurements: at most {busy:.2f} cores"
        + (
            " [yellow](the machine was shared: figures are lower than alone)[/yellow]"
            if busy >= 0.1
            else ""
        )
    )
    if baseline:
        python = [b.trades_per_s for b in baseline]
        console.print(f"  Python baseline trades/s:   {_figures(python)}")
        console.print(
            f"  Flink/Python:               "
            f"{statistics.median(per_slot) / statistics.median(python):.2f}x "
            "(Flink also does the spread join and reads the quotes; Python does not)"
        )


if __name__ == "__main__":
    main()
