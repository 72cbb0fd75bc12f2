"""Backfill throughput: daily bars of 500 symbols x 10 years through the replay server's REST API
into InfluxDB (and Kafka), with ``streamlines gather``'s own code, and proof that a re-run adds
no points.

What runs: a replay server of our own (``python -m connectors.replay serve --speed max
--universe-size N``, a child process on a free port) serving the real GOOG, S&P 500 and NASDAQ
daily bars plus synthetic tickers SYN0001.. (real daily series scaled by a seeded factor; their
trade counts and VWAPs come from intraday trades generated from the real bars). The first
``--symbols`` stock symbols of that universe are gathered, ``--start`` to ``--end`` (10 years by
default), ``1Day``, by ``connectors.gather.service.run_jobs``, i.e. exactly what ``streamlines
gather --symbols … --start … --end … [--no-kafka]`` does: alpaca-py's
``StockHistoricalDataClient`` against the server's REST API (raw and ``adjustment=all`` rows),
``HistoryBar``s, line protocol through the one InfluxDB writer into a **fresh bucket with the
``market`` bucket's shard groups** (10 years; InfluxDB's 7-day default is very slow for years of
data), and, with Kafka, every bar to a **fresh topic** through the one producer helper.

Measured, ``--runs`` times per mode (each run into a fresh bucket, and topic):

- ``kafka``: InfluxDB and Kafka (``streamlines gather``'s default);
- ``influx``: InfluxDB only (``--no-kafka``).

Figure: **bars/s into InfluxDB** = points written / wall seconds of the whole gather call
(clients set up, every bar fetched, written and, with Kafka, acknowledged by the broker, clients
closed); per run, and the median. Before the runs, one gather into a scratch bucket reports the
**first run after the server started**: it is cold (the server generates each bar's trades to
fill ``n`` and ``vw``) unless the server's bar-stats cache on disk already has them (``--cold``
makes it cold on purpose, with an empty cache). Then the last measured run's gather is run
**again into the same bucket and topic**: the points in the bucket (Flux ``count()`` of the
``close`` field, and of every field value) are printed before and after; the script exits 1 if
they differ. The topic gets the same records a second time (a topic is append-only: consumers
keep the latest per ``(symbol, timeframe, t_ns)``, see docs/gather.md).

The machine may be shared: before each measurement the script waits (``--quiet-wait``) for it to
be at least 85 % idle and prints where the CPU went meanwhile (each stack service, this
benchmark with its replay server, and the replay server alone, everything else), so a disturbed
run shows. Everything it creates (buckets, topics) is deleted at the end.

    python -m benchmarks.backfill [--symbols 500] [--runs 3] [--modes kafka,influx] [--cold]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from influxdb_client import BucketRetentionRules, InfluxDBClient
from rich.console import Console

if __package__ in (None, ""):  # run as a file: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.workload import (
    CpuMeter,
    add_quiet_wait_option,
    delete_topics,
    topic_size,
    unique_prefix,
    wait_for_quiet,
)
from connectors.gather.service import Report, range_jobs, run_jobs
from connectors.replay.symbols import REAL_STOCKS
from connectors.replay.universe import synthetic_symbol
from streamlines.child import replay_server_process
from streamlines.console import make_console
from streamlines.contracts.influx import MEASUREMENT_BARS
from streamlines.contracts.time import utc
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.contracts.topics import dead_letter_topic
from streamlines.settings import Settings

TARGET = 20_000  # bars/s into InfluxDB (issue 5)
MODES = ("kafka", "influx")
POINTS_FLUX = f"""
from(bucket: bucket_name)
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "{MEASUREMENT_BARS}" and r._field == "close")
  |> group()
  |> count()
"""
VALUES_FLUX = """
from(bucket: bucket_name)
  |> range(start: 0)
  |> group()
  |> count()
"""


@dataclass(frozen=True)
class RunResult:
    label: str
    bars: int
    points: int
    records: int
    seconds: float  # wall time of the gather call
    gather_seconds: float  # gather's own figure (Gatherer.run)
    cpu: str  # CpuMeter's breakdown
    replay_cores: float
    others: float

    @property
    def bars_per_s(self) -> float:
        return self.points / self.seconds


def _ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def replay_pid() -> int | None:
    """Our replay server: the child process running ``connectors.replay``."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if ppid == me and b"connectors.replay" in cmdline:
            return int(entry.name)
    return None


class Bench:
    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        self.args = args
        self.console = console
        self.base = Settings()
        self.settings = self.base
        self.prefix = unique_prefix("backfill")
        self.influx = InfluxDBClient(
            url=self.base.influx_url,
            token=self.base.influx_token.get_secret_value(),
            org=self.base.influx_org,
            timeout=600_000,
        )
        self.buckets: list[object] = []
        self.topics: list[str] = []
        self.replay_pid: int | None = None
        start, end = (utc(datetime.fromisoformat(day)) for day in (args.start, args.end))
        self.jobs = range_jobs(symbols(args.symbols), start, end)

    @contextmanager
    def replay_server(self, stats_dir: Path | None) -> Iterator[None]:
        serve = ["--speed", "max", "--universe-size", str(self.args.symbols)]
        if stats_dir is not None:
            serve += ["--bar-stats-dir", str(stats_dir)]
        started = time.perf_counter()
        with replay_server_process(*serve, start_timeout=300) as port:
            self.console.print(
                f"replay server of {self.args.symbols} stocks on port {port}, up in "
                f"{time.perf_counter() - started:.1f} s"
            )
            self.replay_pid = replay_pid()
            self.settings = self.base.model_copy(
                update={"replay_port": port, "alpaca_api_key": None, "alpaca_secret_key": None}
            )
            yield

    def bucket(self, name: str) -> str:
        seconds = self.base.influx_shard_group_seconds["market"]
        rules = BucketRetentionRules(
            type="expire", every_seconds=0, shard_group_duration_seconds=seconds
        )
        created = self.influx.buckets_api().create_bucket(
            bucket_name=name, retention_rules=rules, org=self.base.influx_org
        )
        self.buckets.append(created)
        return name

    def count(self, bucket: str, flux: str) -> int:
        tables = self.influx.query_api().query(flux, params={"bucket_name": bucket})
        return sum(int(r.get_value()) for table in tables for r in table.records)

    def gather(self, label: str, bucket: str, topic: str | None) -> RunResult:
        wait_for_quiet(self.console, self.args.quiet_wait)
        before = _ticks(self.replay_pid) if self.replay_pid else None
        with CpuMeter(self.base) as meter:
            started = time.perf_counter()
            report: Report = run_jobs(
                self.settings,
                self.jobs,
                BarTimeframe.DAY_1,
                bucket,
                topic,
                self.args.concurrency or self.base.gather_concurrency,
                processes=self.args.processes,
            )
            seconds = time.perf_counter() - started
        after = _ticks(self.replay_pid) if self.replay_pid else None
        replay = (
            (after - before) / os.sysconf("SC_CLK_TCK") / seconds
            if before is not None and after is not None
            else 0.0
        )
        if report.failed:
            raise SystemExit(f"{label}: {len(report.failed)} symbols failed: {report.failed}")
        result = RunResult(
            label=label,
            bars=report.bars,
            points=report.points,
            records=report.records,
            seconds=seconds,
            gather_seconds=report.seconds,
            cpu=meter.summary(),
            replay_cores=replay,
            others=meter.others,
        )
        self.console.print(
            f"{label}: {result.points:,} points in {seconds:.1f} s = "
            f"[bold]{result.bars_per_s:,.0f} bars/s[/bold] into InfluxDB"
            + (f", {result.records:,} records to Kafka" if topic else "")
        )
        self.console.print(f"  {result.cpu}; of which our replay server {replay:.2f}")
        return result

    def run(self, mode: str, run: int) -> tuple[RunResult, str, str | None]:
        name = f"{self.prefix}-{mode}{run}"
        topic = f"{name}-history" if mode == "kafka" else None
        if topic:
            self.topics += [topic, dead_letter_topic(topic)]
        bucket = self.bucket(name)
        label = f"{mode:6} run {run}"
        return self.gather(label, bucket, topic), bucket, topic

    def cleanup(self) -> None:
        for bucket in self.buckets:
            try:
                self.influx.buckets_api().delete_bucket(bucket)
            except Exception as exc:  # a clean-up must not hide the result
                self.console.print(f"[yellow]warning: could not delete a bucket: {exc}[/yellow]")
        if self.topics:
            delete_topics(self.base, self.topics)
        self.influx.close()


def symbols(n: int) -> list[str]:
    """The first ``n`` stock symbols of a replay universe of ``n`` stocks."""
    real = list(REAL_STOCKS)[:n]
    return real + [synthetic_symbol(k) for k in range(1, n - len(real) + 1)]


def _figures(values: list[float]) -> str:
    runs = ", ".join(f"{v:,.0f}" for v in values)
    return f"median {statistics.median(values):,.0f} (runs: {runs})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--symbols", type=int, default=500, help="stock symbols to gather")
    parser.add_argument("--start", default="2004-01-01", help="first bar (UTC date)")
    parser.add_argument("--end", default="2013-12-31", help="last bar (UTC date), inclusive")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per mode")
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help="comma-separated: kafka (InfluxDB and Kafka), influx (InfluxDB only, --no-kafka)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=None, help="gather's STREAMLINES_GATHER_CONCURRENCY"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="gather's --processes (symbols split over N)"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="start the replay server with an empty bar-stats cache, so that the first run "
        "shows a cold server",
    )
    add_quiet_wait_option(parser)
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes: use {', '.join(MODES)}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up when stopped, too
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("kafka").setLevel(logging.ERROR)  # its busy-loop notes, on a busy machine
    console = make_console()
    bench = Bench(args, console)
    console.print(
        f"backfill: {len(bench.jobs)} symbols x {args.start}..{args.end} of 1Day bars, "
        f"{os.cpu_count()} CPUs, modes {', '.join(modes)}, {args.runs} runs each"
    )
    results: dict[str, list[RunResult]] = {m: [] for m in modes}
    first: RunResult | None = None
    with tempfile.TemporaryDirectory(prefix="backfill-bar-stats-") as empty:
        try:
            with bench.replay_server(Path(empty) if args.cold else None):
                state = "empty bar-stats cache" if args.cold else "bar-stats cache as found"
                first = bench.gather(
                    f"first run after the server started ({state}, InfluxDB only)",
                    bench.bucket(f"{bench.prefix}-first"),
                    None,
                )
                last: dict[str, tuple[str, str | None]] = {}
                for mode in modes:
                    for run in range(1, args.runs + 1):
                        result, bucket, topic = bench.run(mode, run)
                        results[mode].append(result)
                        last[mode] = (bucket, topic)
                # The re-run repeats the last run with Kafka, if any: the whole default path.
                same = rerun(bench, *last[modes[0] if "kafka" not in modes else "kafka"])
        finally:
            bench.cleanup()

    console.print()
    console.print(
        f"backfill of {first.points:,} daily bars ({len(bench.jobs)} symbols, "
        f"{args.start}..{args.end}) through the replay server's REST API, {os.cpu_count()} CPUs"
    )
    names = {"kafka": "InfluxDB + Kafka", "influx": "InfluxDB only (--no-kafka)"}
    for mode in modes:
        values = [r.bars_per_s for r in results[mode]]
        verdict = "meets" if statistics.median(values) >= TARGET else "below"
        console.print(
            f"  {names[mode]:28} bars/s: {_figures(values)}  ({verdict} the {TARGET:,} target)"
        )
    console.print(f"  {'first run after start':28} bars/s: {first.bars_per_s:,.0f}")
    busy = max(r.others for rs in results.values() for r in rs)
    console.print(
        f"  CPU used by other processes during the measurements: at most {busy:.2f} cores"
        + (" [yellow](the machine was shared)[/yellow]" if busy >= 0.1 else "")
    )
    if not same:
        raise SystemExit(1)


def rerun(bench: Bench, bucket: str, topic: str | None) -> bool:
    """The same gather again into the same bucket (and topic): no point may be added."""
    console = bench.console
    points = bench.count(bucket, POINTS_FLUX)
    values = bench.count(bucket, VALUES_FLUX)
    records = topic_size(bench.base, topic) if topic else None
    bench.gather("re-run into the same bucket", bucket, topic)
    points_after = bench.count(bucket, POINTS_FLUX)
    values_after = bench.count(bucket, VALUES_FLUX)
    same = points == points_after and values == values_after
    colour = "green" if same else "red"
    console.print(
        f"[{colour}]points in {bucket}: {points:,} before the re-run, {points_after:,} after; "
        f"field values {values:,} before, {values_after:,} after[/{colour}]"
    )
    if topic and records is not None:
        console.print(
            f"  records in {topic}: {records:,} before, {topic_size(bench.base, topic):,} after "
            "(append-only: the same records again)"
        )
    return same


if __name__ == "__main__":
    main()
