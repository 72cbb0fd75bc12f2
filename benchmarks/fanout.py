"""Fan-out: many subscribers of the live ripples on one GraphQL server, with each update
executed once per selection (``graphql_server/fanout.py``) and, as the baseline, once per
subscriber (``STREAMLINES_GRAPHQL_SHARED_EXECUTION=false``, graphql-core's way).

Path: this process produces analytics records (metric ``spread``, ``t_ns`` its wall clock at
production) to a topic of the run's own at ``--rate`` records/s over ``--symbols`` symbols →
``streamlines graphql serve`` (a child process reading that topic) → ``--subscribers``
websockets (graphql-transport-ws, one subscription each, every symbol's subscribers the same
share, the same selection) in ``--client-processes`` processes of raw ``websockets`` clients.
A subscriber takes each update's latency as its arrival wall time minus ``t_ns``: production
to receipt (one machine, one clock). The first ``--warmup`` seconds are left out of the
latencies; every record counts for "received vs expected" (each subscriber expects each
record of its symbol once).

By default the subscribers use ``ripplesBatches`` (what the dashboard subscribes to: each
message carries what arrived since the previous one); ``--per-record`` uses ``ripples``, one
message per record and subscriber. The clients do not offer websocket compression unless
``--compression`` (as browsers do: then the server deflates every message for each connection,
unless ``STREAMLINES_GRAPHQL_WEBSOCKET_COMPRESSION=false``). Also printed: the server's peak
resident memory (VmHWM) and its memory when everyone had subscribed, the CPU of the server, the
clients and the rest (``CpuMeter``), and the shared execution's counters (``/healthz``).
``--profile DIR`` runs the server under cProfile and writes its profile per run there.

    python -m benchmarks.fanout [--subscribers 1000] [--rate 2000] [--seconds 30] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import numpy as np
import websockets
from kafka import KafkaProducer
from rich.console import Console

from benchmarks.workload import (
    CpuMeter,
    add_quiet_wait_option,
    delete_topics,
    unique_prefix,
    wait_for_quiet,
)
from connectors.sinks.kafka import ensure_topics
from graphql_server.client import websocket_url
from streamlines.child import REPO, child_server, free_port
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.time import NS_PER_SECOND
from streamlines.settings import Settings

TARGET_P99_MS = 500.0
SYMBOLS = ["GOOG", "SP500", "NASDAQ"] + [f"SYN{i:04d}" for i in range(1, 98)]
MAX_LATENCY_MS = 120_000  # the histogram's last bucket: this or more
CONNECTS_AT_ONCE = 50
NEXT_PREFIX = '{"id":"1","type":"next","payload":{"data":'
T_NS = re.compile(r'"tNs":"(\d+)"')
CHILDREN = {"graphql": "graphql serve", "clients": "multiprocessing"}
MODES = {"shared": True, "per-subscriber": False}


def document(per_record: bool, symbol: str) -> str:
    if per_record:
        return f'subscription {{ ripples(symbols: ["{symbol}"]) {{ symbol metric tNs values }} }}'
    return (
        f'subscription {{ ripplesBatches(symbols: ["{symbol}"]) '
        "{ points { symbol metric tNs values } } }"
    )


# --- the subscribers (a process of their own each) --------------------------------------------


@dataclass
class ClientResult:
    histogram: list[int]  # latency ms -> updates (after the warmup)
    received: dict[str, int]  # symbol -> updates received by all its subscribers
    messages: int
    subscribed: int
    failures: list[str] = field(default_factory=list)


class Subscribers:
    """One process's subscribers: their counts, latencies and failures."""

    def __init__(
        self, url: str, per_record: bool, compression: bool, cutoff: Synchronized,
        done: Synchronized,
    ) -> None:  # fmt: skip
        self.ws_url = websocket_url(url)
        self.per_record = per_record
        self.compression = compression
        self.cutoff, self.done = cutoff, done
        self.histogram = np.zeros(MAX_LATENCY_MS + 1, dtype=np.int64)
        self.received: dict[str, int] = {}
        self.messages = 0
        self.subscribed = 0
        self.failures: list[str] = []
        self.gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

    async def run(self, symbol: str) -> None:
        try:
            await self._run(symbol)
        except Exception as exc:  # counted and shown; the others go on
            if not self.done.value:
                self.failures.append(f"{type(exc).__name__}: {exc}")

    async def _run(self, symbol: str) -> None:
        async with self.gate:
            ws = await websockets.connect(
                self.ws_url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                compression="deflate" if self.compression else None,
                max_size=None, ping_interval=None, open_timeout=60,
            )  # fmt: skip
            await ws.send('{"type":"connection_init","payload":{}}')
            ack = json.loads(await ws.recv())
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"expected connection_ack, got {ack}")
            payload = {"query": document(self.per_record, symbol)}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        self.subscribed += 1
        self.received.setdefault(symbol, 0)
        async with ws:
            async for message_data in ws:
                now = time.time_ns()
                raw = message_data if isinstance(message_data, str) else message_data.decode()
                # Cheap enough for a thousand subscribers on two shared cores: the update
                # times are cut out of the message, not parsed with the rest of it.
                if not raw.startswith(NEXT_PREFIX) or '"errors"' in raw:
                    message = json.loads(raw)
                    if message["type"] == "ping":
                        await ws.send('{"type":"pong"}')
                        continue
                    raise RuntimeError(f"the server sent {str(message)[:300]}")
                times = np.array(T_NS.findall(raw), dtype=np.int64)
                self.messages += 1
                self.received[symbol] += len(times)
                cutoff = self.cutoff.value
                if cutoff:
                    ms = (now - times[times >= cutoff]) // 1_000_000
                    np.add.at(self.histogram, np.minimum(ms, MAX_LATENCY_MS), 1)

    def result(self) -> ClientResult:
        return ClientResult(
            self.histogram.tolist(), dict(self.received), self.messages, self.subscribed,
            self.failures,
        )  # fmt: skip


def client_process(
    url: str,
    symbols: list[str],
    per_record: bool,
    compression: bool,
    cutoff: Synchronized,
    done: Synchronized,
    progress: Synchronized,
    results: Any,
) -> None:
    async def main() -> ClientResult:
        subscribers = Subscribers(url, per_record, compression, cutoff, done)
        tasks = [asyncio.ensure_future(subscribers.run(s)) for s in symbols]
        while not done.value:
            await asyncio.sleep(0.25)
            progress.value = sum(subscribers.received.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return subscribers.result()

    results.put(asyncio.run(main()))


# --- the server and the load ------------------------------------------------------------------


def server_pid(port: int) -> int | None:
    """The pid of the GraphQL server listening on ``port`` (found by its command line)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in command and str(port).encode() in command and b"graphql" in command:
            return int(proc.name)
    return None


def memory_kib(pid: int, field_name: str) -> int:
    """A VmRSS/VmHWM line of /proc/<pid>/status, in KiB (0 when gone)."""
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@contextmanager
def graphql_server(env: dict[str, str], log: Path, profile: Path | None) -> Iterator[str]:
    """``streamlines graphql serve`` on a free port; with ``profile``, under cProfile, stopped
    with SIGINT and given the time to write its profile."""
    port = free_port()
    args = ["streamlines.cli", "graphql", "serve", "--port", str(port), "--log-level", "warning"]
    if profile is None:
        with child_server(args, port, env=env, log_path=log):
            yield f"http://127.0.0.1:{port}/graphql"
        return
    command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", *args]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
        url = f"http://127.0.0.1:{port}/graphql"
        try:
            for _ in range(300):
                try:
                    health(url)
                    break
                except OSError:
                    time.sleep(0.2)
            yield url
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(300)
            except subprocess.TimeoutExpired:
                process.kill()


def health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url.replace("/graphql", "/healthz"), timeout=30) as response:
        return json.loads(response.read())


def produce(
    bootstrap: str, topic: str, symbols: list[str], rate: float, seconds: float
) -> dict[str, int]:
    """``rate`` records/s for ``seconds``, round robin over ``symbols``, each stamped with its
    production time as ``t_ns``; the records produced per symbol."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5)
    produced = dict.fromkeys(symbols, 0)
    sent, start = 0, time.monotonic()
    last_t_ns = 0
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            for _ in range(int(elapsed * rate) - sent):
                symbol = symbols[sent % len(symbols)]
                t_ns = max(time.time_ns(), last_t_ns + 1)  # unique per record
                last_t_ns = t_ns
                record = AnalyticsRecord(
                    symbol=symbol, metric="spread", t_ns=t_ns,
                    values={"bid": 100.0, "ask": 100.02, "spread": 0.02, "mid": 100.01},
                )  # fmt: skip
                producer.send(topic, key=symbol.encode(), value=record.to_wire())
                produced[symbol] += 1
                sent += 1
            time.sleep(0.005)
        producer.flush()
    finally:
        producer.close()
    return produced


@dataclass
class RunResult:
    mode: str
    latencies: np.ndarray  # histogram: ms -> updates
    expected: int
    received: int
    messages: int
    subscribed: int
    failures: list[str]
    rss_subscribed_mib: float
    peak_rss_mib: float
    cpu: str
    server_cores: float
    counters: dict[str, int] | None

    def percentile(self, q: float) -> float:
        counts = self.latencies
        total = counts.sum()
        if total == 0:
            return float("nan")
        return float(np.searchsorted(np.cumsum(counts), q / 100 * total))


def one_run(
    settings: Settings, args: argparse.Namespace, mode: str, run: int, logs: Path, console: Console
) -> RunResult:
    topic = f"{unique_prefix('fanout')}.ripples"
    ensure_topics(settings, [topic])
    symbols = SYMBOLS[: args.symbols]
    env = {
        "STREAMLINES_GRAPHQL_RIPPLES_TOPIC": topic,
        "STREAMLINES_GRAPHQL_SHARED_EXECUTION": "true" if MODES[mode] else "false",
        # every subscriber comes from this machine's address: one client for the limits
        "STREAMLINES_GRAPHQL_MAX_SUBSCRIPTIONS": str(args.subscribers + 10),
        "STREAMLINES_GRAPHQL_RATE_LIMIT_PER_MINUTE": str(100 * args.subscribers + 600),
    }
    profile = args.profile / f"server-{mode}-{run}.prof" if args.profile else None
    try:
        with graphql_server(env, logs / f"graphql-{mode}-{run}.log", profile) as url:
            return measure(settings, args, mode, url, topic, symbols, console)
    finally:
        delete_topics(settings, [topic])


def measure(
    settings: Settings,
    args: argparse.Namespace,
    mode: str,
    url: str,
    topic: str,
    symbols: list[str],
    console: Console,
) -> RunResult:
    pid = server_pid(int(url.split(":")[2].split("/")[0]))
    if pid is None:
        raise SystemExit("could not find the GraphQL server's process")
    context = multiprocessing.get_context("spawn")
    cutoff, done = context.Value("q", 0), context.Value("b", False)
    results = context.Queue()
    assigned = [symbols[i % len(symbols)] for i in range(args.subscribers)]
    processes, progress = [], []
    for k in range(args.client_processes):
        counter = context.Value("q", 0)
        progress.append(counter)
        share = assigned[k :: args.client_processes]
        processes.append(context.Process(
            target=client_process,
            args=(url, share, args.per_record, args.compression, cutoff, done, counter, results),
            daemon=True,
        ))  # fmt: skip
    for process in processes:
        process.start()
    deadline = time.monotonic() + 120
    with console.status(f"{args.subscribers:,} subscribers connecting …"):
        while health(url)["subscriptions"] < args.subscribers:
            if time.monotonic() > deadline:
                done.value = True
                raise SystemExit(
                    f"only {health(url)['subscriptions']} of {args.subscribers} subscribed"
                )
            time.sleep(0.5)
    rss = RssSampler(pid)
    cutoff.value = time.time_ns() + int(args.warmup * NS_PER_SECOND)
    console.print(
        f"  {mode}: {args.subscribers:,} subscribed (server RSS {rss.start:.0f} MiB); "
        f"producing {args.rate:,.0f} records/s for {args.warmup + args.seconds:g} s …"
    )
    produced_box: dict[str, int] = {}
    producer = threading.Thread(target=lambda: produced_box.update(produce(
        settings.kafka_bootstrap, topic, symbols, args.rate, args.warmup + args.seconds
    )))  # fmt: skip
    producer.start()
    time.sleep(args.warmup)
    with CpuMeter(settings, CHILDREN) as meter:
        time.sleep(args.seconds)
    producer.join()
    per_symbol = {s: assigned.count(s) for s in symbols}
    expected = sum(produced_box[s] * per_symbol[s] for s in symbols)
    drain(progress, expected, args.drain)
    try:
        counters = health(url)["shared_execution"]
    except OSError:  # a server still busy with its backlog does not answer in time
        counters = {"no answer from /healthz": 1}
    rss.stop()
    done.value = True
    client_results = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(30)
    histogram = np.sum([np.array(r.histogram) for r in client_results], axis=0)
    seconds = meter.cpu_seconds
    return RunResult(
        mode=mode,
        latencies=histogram,
        expected=expected,
        received=sum(sum(r.received.values()) for r in client_results),
        messages=sum(r.messages for r in client_results),
        subscribed=sum(r.subscribed for r in client_results),
        failures=[f for r in client_results for f in r.failures],
        rss_subscribed_mib=rss.start,
        peak_rss_mib=rss.peak,
        cpu=meter.summary(),
        server_cores=seconds.get("graphql", 0.0) / args.seconds,
        counters=counters,
    )


class RssSampler:
    """The server's resident memory from now (``start``) to ``stop()``: ``peak``, its largest
    (sampled every 0.5 s, and the kernel's high-water mark)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = self.peak = memory_kib(pid, "VmRSS") / 1024
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, memory_kib(self.pid, "VmRSS") / 1024)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, memory_kib(self.pid, "VmHWM") / 1024)


def drain(progress: list[Synchronized], expected: int, most: float) -> None:
    """Wait until the subscribers received ``expected`` updates, nothing more arrives for 5 s,
    or ``most`` seconds passed."""
    until, last, last_change = time.monotonic() + most, -1, time.monotonic()
    while time.monotonic() < until:
        total = sum(c.value for c in progress)
        if total >= expected:
            return
        if total != last:
            last, last_change = total, time.monotonic()
        elif time.monotonic() - last_change > 5:
            return
        time.sleep(0.3)


def show(result: RunResult, args: argparse.Namespace) -> str:
    lost = result.expected - result.received
    per_second = result.messages / (args.warmup + args.seconds)
    failures = (
        f"; {len(result.failures)} failed, e.g. {result.failures[0]}" if result.failures else ""
    )
    return (
        f"{result.mode}: {result.received:,} of {result.expected:,} updates received "
        f"({lost:,} lost) in {result.messages:,} messages ({per_second:,.0f}/s); "
        f"p50 {result.percentile(50):.0f} ms, p95 {result.percentile(95):.0f} ms, "
        f"p99 {result.percentile(99):.0f} ms; server RSS {result.rss_subscribed_mib:.0f} MiB "
        f"subscribed, peak {result.peak_rss_mib:.0f} MiB; server {result.server_cores:.2f} "
        f"cores{failures}\n    {result.cpu}; shared execution {result.counters}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Latency and cost of many live subscribers, shared execution vs per subscriber."
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--symbols", type=int, default=10, help="symbols (default 10)")
    parser.add_argument("--rate", type=float, default=2000, help="records/s (default 2000)")
    parser.add_argument("--seconds", type=float, default=30, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=5, help="seconds left out at start")
    parser.add_argument("--drain", type=float, default=60, help="most seconds to wait for the "
                        "last updates after producing stopped")  # fmt: skip
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--per-record", action="store_true",
                        help="subscribe to `ripples` (a message per record) instead of "
                        "`ripplesBatches`")  # fmt: skip
    parser.add_argument("--compression", action="store_true",
                        help="the clients offer permessage-deflate, as browsers do (the server "
                        "compresses each message per connection unless "
                        "STREAMLINES_GRAPHQL_WEBSOCKET_COMPRESSION=false)")  # fmt: skip
    parser.add_argument("--modes", default="shared,per-subscriber",
                        help="which of shared, per-subscriber to run (default both)")  # fmt: skip
    parser.add_argument("--profile", type=Path, help="run the server under cProfile; "
                        "write its profiles to this folder")  # fmt: skip
    add_quiet_wait_option(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.symbols <= len(SYMBOLS):
        parser.error(f"--symbols: use 1 to {len(SYMBOLS)}")
    modes = [m.strip() for m in args.modes.split(",")]
    if unknown := [m for m in modes if m not in MODES]:
        parser.error(f"--modes: unknown {unknown}; use shared and/or per-subscriber")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    console = Console(stderr=True)
    logs = Path(tempfile.mkdtemp(prefix="streamlines-fanout-"))
    subscription = "ripples" if args.per_record else "ripplesBatches"
    print(f"{args.subscribers:,} subscribers of `{subscription}` over {args.symbols} symbols, "
          f"{args.rate:,.0f} records/s, {args.seconds:g} s measured after {args.warmup:g} s; "
          f"clients {'offering' if args.compression else 'without'} permessage-deflate; "
          f"logs in {logs}", flush=True)  # fmt: skip
    by_mode: dict[str, list[RunResult]] = {m: [] for m in modes}
    for run in range(1, args.runs + 1):
        for mode in modes:
            wait_for_quiet(console, args.quiet_wait)
            result = one_run(settings, args, mode, run, logs, console)
            by_mode[mode].append(result)
            print(f"run {run} {show(result, args)}", flush=True)
    print(f"\nmedian of {args.runs} runs ({args.subscribers:,} subscribers of `{subscription}`, "
          f"{args.symbols} symbols, {args.rate:,.0f} records/s):")  # fmt: skip
    for mode, results in by_mode.items():
        p99 = statistics.median(r.percentile(99) for r in results)
        print(
            f"  {mode}: p50 {statistics.median(r.percentile(50) for r in results):.0f} ms, "
            f"p95 {statistics.median(r.percentile(95) for r in results):.0f} ms, "
            f"p99 {p99:.0f} ms (target ≤ {TARGET_P99_MS:.0f} ms: {p99 / TARGET_P99_MS:.2f}x); "
            f"lost {statistics.median(r.expected - r.received for r in results):,.0f} of "
            f"{statistics.median(r.expected for r in results):,.0f}; peak server RSS "
            f"{statistics.median(r.peak_rss_mib for r in results):.0f} MiB; server "
            f"{statistics.median(r.server_cores for r in results):.2f} cores"
        )


if __name__ == "__main__":
    main()
