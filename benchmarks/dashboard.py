"""The dashboard in a real browser (Debian's chromium driven by Playwright, no browser download):
how long a year of 1-minute bars takes to become a complete chart, and the frame rate while 200
updates a second arrive. (The screenshots in docs/images come from the page tests: see
docs/dashboard.md.)

Set-up (each run of this script, everything its own, deleted at the end): a replay server
(``--speed max``) whose real-derived 1-minute bars of one symbol (S&P 500, 2012: intraday trades
generated from the real daily bars, so minutes without a trade have no bar) are gathered by
``streamlines gather``'s code into a market bucket of its own; a ripples topic of its own;
``streamlines graphql serve`` reading both and serving ``dashboard/dist`` at ``/dashboard/``.

(a) **Time to a complete chart**: a fresh browser context opens
``/dashboard/?symbol=SP500&timeframe=1Min&start=2012-01-01&end=2013-01-01``; the figure is the
time from navigation start to the first animation frame in which the price polyline has every
vertex the chart's query returned (page load, symbols query, websocket, the chart query, the
drawing). Side by side: the same page with the query's ``maxPoints`` removed (intercepted in the
browser: every bar is drawn), and the bare GraphQL query (from Python) with and without
``maxPoints``. Target: ≤ 1 s with the query. The server runs with
``STREAMLINES_GRAPHQL_MAX_POINTS=600000`` so that the baseline may ask for every bar; so the
page's one query also gets the year's indicators (none here: no currents job), where with the
default 100,000 the server refuses them for a year of minutes and the page asks again for the
series alone.

(b) **Frame rate under updates**: the live chart (opened without ``start``: the day of 1-minute
bars before the live clock) while ``--rate`` ripples records a second (``bar_1s`` of the chart's
symbol, one event second apart after the year's bars, with a ``bar_1m`` for each closed minute,
their values taken from the real bars) are produced to the topic the server subscribes to:
``requestAnimationFrame`` intervals over ``--seconds`` in the page; median fps and the
95th-percentile frame time. Baseline: the same page once the updates have stopped.

(c) **Record → page latency** in the same runs: for each change of the forming bar in the DOM, the
ms from producing the latest ``bar_1s`` it includes (matched by the minute's running volume) to
the change (Kafka, the GraphQL server's subscription, the websocket, the drawing). Target: the
forming bar moves within 1 s. What comes before the topic (the replay server's send → ingest →
the ripples job) is ``benchmarks.e2e_latency``'s figure; the page test
``tests/e2e/dashboard/test_live.py`` prints the whole path's latency on its pipeline.

Each figure is the median of ``--runs`` runs.

    python -m benchmarks.dashboard [--runs 3] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from influxdb_client import BucketRetentionRules, InfluxDBClient
from playwright.sync_api import Browser, Page, Route, ViewportSize, sync_playwright

from benchmarks.workload import delete_topics, unique_prefix
from connectors.gather.service import range_jobs, run_jobs
from connectors.sinks.kafka import KafkaSink, ensure_topics
from graphql_server.client import query
from streamlines.child import graphql_server_process, replay_server_process
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.metrics import METRIC_BAR_1M, METRIC_BAR_1S
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("STREAMLINES_CHROMIUM", "/usr/bin/chromium")
SYMBOL = "SP500"
YEAR = ("2012-01-01T00:00:00Z", "2013-01-01T00:00:00Z")
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
TARGET_MS = 1000.0
NS_PER_MINUTE = 60_000_000_000

# The first animation frame in which the chart is complete: its query answered and every vertex
# it returned in the price polyline. Resolves to ms since navigation start.
COMPLETE = """() => {
  const q = window.__dashboard?.query;
  if (!q || q.state !== 'ready') return false;
  const points = document.querySelector('[data-testid=price-line]')?.getAttribute('points');
  if (!points) return false;
  let n = 1;
  for (let i = 0; i < points.length; i++) if (points.charCodeAt(i) === 32) n++;
  return n >= q.points ? performance.now() : false;
}"""

# requestAnimationFrame timestamps for `ms` milliseconds.
FRAMES = """(ms) => new Promise((done) => {
  const frames = [];
  const until = performance.now() + ms;
  const step = (t) => {
    frames.push(t);
    if (t < until) requestAnimationFrame(step); else done(frames);
  };
  requestAnimationFrame(step);
})"""

SERIES = """query($start: DateTime!, $end: DateTime, $maxPoints: Int) {
  series(symbol: "SP500", start: $start, end: $end, timeframe: MINUTE_1, maxPoints: $maxPoints,
         downsample: LTTB) { sourcePoints downsampled data { tNs open high low close volume vwap } }
}"""


@dataclass
class Setup:
    settings: Settings
    graphql: str
    ripples_topic: str
    browser: Browser
    bars: dict[str, list[Any]]  # the year's bars as columns (the series query, all of them)

    def url(self, **params: str) -> str:
        base = self.graphql.removesuffix("/graphql")
        return f"{base}/dashboard/?" + "&".join(f"{k}={v}" for k, v in params.items())


@contextmanager
def setup(settings: Settings) -> Iterator[Setup]:
    if not Path(CHROMIUM).is_file():
        raise SystemExit(
            f"no browser at {CHROMIUM}: install Debian's chromium (`make browser`) or set "
            "STREAMLINES_CHROMIUM"
        )
    if not (REPO / "dashboard" / "dist" / "index.html").is_file():
        raise SystemExit("the dashboard is not built: run `make dashboard`")
    prefix = unique_prefix("dashboard")
    influx = InfluxDBClient(
        url=settings.influx_url, token=settings.influx_token.get_secret_value(),
        org=settings.influx_org, timeout=600_000,
    )  # fmt: skip
    buckets = influx.buckets_api()
    topic = f"{prefix}.ripples"
    with ExitStack() as stack:
        stack.callback(influx.close)
        rules = BucketRetentionRules(
            type="expire", every_seconds=0,
            shard_group_duration_seconds=settings.influx_shard_group_seconds["market"],
        )  # fmt: skip
        market = buckets.create_bucket(bucket_name=f"{prefix}-market", retention_rules=rules)
        stack.callback(buckets.delete_bucket, market)
        ensure_topics(settings.kafka_bootstrap, [topic])
        stack.callback(delete_topics, settings, [topic])
        with replay_server_process("--speed", "max", start_timeout=300) as port:
            source = settings.model_copy(
                update={"replay_port": port, "alpaca_api_key": None, "alpaca_secret_key": None}
            )
            began = time.perf_counter()
            year = (datetime(2012, 1, 1, tzinfo=UTC), datetime(2012, 12, 31, 23, 59, tzinfo=UTC))
            report = run_jobs(
                source, range_jobs([SYMBOL], *year), BarTimeframe.MINUTE_1, market.name, None, 4
            )
            if report.failed:
                raise SystemExit(f"gathering the year's bars failed: {report.failed}")
            print(f"gathered {report.bars:,} 1-minute bars of {SYMBOL} (2012) in "
                  f"{time.perf_counter() - began:.1f} s")  # fmt: skip
        graphql = stack.enter_context(
            graphql_server_process(
                {
                    "STREAMLINES_GATHER_BUCKET": market.name,
                    "STREAMLINES_GRAPHQL_RIPPLES_TOPIC": topic,
                    # the bare query without maxPoints (the baseline) asks for a year
                    "STREAMLINES_GRAPHQL_MAX_POINTS": "600000",
                }
            )
        )
        bars = query(graphql, SERIES, {"start": YEAR[0], "end": YEAR[1], "maxPoints": None})
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        stack.callback(browser.close)
        yield Setup(settings, graphql, topic, browser, bars["series"]["data"])


@contextmanager
def new_page(bench: Setup, full: bool = False) -> Iterator[Page]:
    """A page in a fresh browser context; ``full``: the chart query's maxPoints removed."""
    context = bench.browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    if full:

        def without_max_points(route: Route) -> None:
            body = json.loads(route.request.post_data or "{}")
            if "maxPoints" in body.get("variables", {}):
                body["variables"]["maxPoints"] = None
            route.continue_(post_data=json.dumps(body))

        page.route("**/graphql", without_max_points)
    try:
        yield page
    finally:
        context.close()


def time_to_chart(bench: Setup, full: bool) -> tuple[float, float, int]:
    """Navigation start to the complete polyline (ms), the chart query's round trip in the page
    (ms), and the vertices drawn."""
    with new_page(bench, full) as page:
        page.goto(bench.url(symbol=SYMBOL, timeframe="1Min", start=YEAR[0], end=YEAR[1]))
        done = page.wait_for_function(COMPLETE, polling="raf", timeout=120_000).json_value()
        info = page.evaluate("window.__dashboard.query")
        return float(done), float(info["queryMs"]), int(info["points"])


def bare_query_ms(bench: Setup, max_points: int | None) -> float:
    began = time.perf_counter()
    query(bench.graphql, SERIES, {"start": YEAR[0], "end": YEAR[1], "maxPoints": max_points})
    return (time.perf_counter() - began) * 1000


class Updates:
    """``rate`` ripples records a second for the chart's symbol, from a thread: ``bar_1s`` one
    event second apart after the year's last bar, valued as the year's real minute bars in turn,
    and a ``bar_1m`` of each closed minute (a record's t_ns is its window's end, as the ripples
    job's)."""

    def __init__(self, bench: Setup, rate: float) -> None:
        self.bench, self.rate = bench, rate
        self.sink = KafkaSink(bench.settings.kafka_bootstrap, client_id="bench-dashboard")
        self.stop = threading.Event()
        self.sent = 0
        # each bar_1s produced: (its minute's start, ms; the minute's volume so far; sent, ms)
        self.log: list[tuple[int, float, float]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        last = int(bench.bars["tNs"][-1])
        self.t_ns = max((last // NS_PER_MINUTE + 1) * NS_PER_MINUTE, Updates.resume_at)
        self.i = 0

    # Where the next run's records start: after the last one's (the server primes a new
    # subscription with the latest record, which must not be newer than the new run's).
    resume_at = 0

    def __enter__(self) -> Updates:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.sink.close(10)
        Updates.resume_at = (self.t_ns // NS_PER_MINUTE + 60) * NS_PER_MINUTE

    def _values(self) -> dict[str, float | int | None]:
        b, i = self.bench.bars, self.i % len(self.bench.bars["tNs"])
        keys = ("open", "high", "low", "close", "volume", "vwap")
        return {k: b[k][i] for k in keys} | {"count": 1}

    def _send(self, metric: str, t_ns: int, values: dict[str, float | int | None]) -> None:
        record = AnalyticsRecord(symbol=SYMBOL, t_ns=t_ns, metric=metric, values=values)
        self.sink.send(self.bench.ripples_topic, record)

    def _run(self) -> None:
        began = time.perf_counter()
        minute: list[dict[str, float | int | None]] = []
        volume = 0.0
        while not self.stop.is_set():
            values = self._values()
            self.t_ns += 1_000_000_000
            self._send(METRIC_BAR_1S, self.t_ns, values)
            volume += float(values["volume"] or 0)
            # the bar's window ends at t_ns: it belongs to the minute of its start
            start_ms = (self.t_ns - 1_000_000_000) // NS_PER_MINUTE * 60_000
            self.log.append((start_ms, volume, time.time() * 1000))
            minute.append(values)
            self.sent += 1
            self.i += 1
            if self.t_ns % NS_PER_MINUTE == 0:
                self._send(METRIC_BAR_1M, self.t_ns, minute_bar(minute))
                minute, volume = [], 0.0
            self.sink.flush(1) if self.sent % 20 == 0 else None
            pause = began + self.sent / self.rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)


def minute_bar(seconds: list[dict[str, Any]]) -> dict[str, float | int | None]:
    volume = sum(s["volume"] for s in seconds)
    return {
        "open": seconds[0]["open"],
        "high": max(s["high"] for s in seconds),
        "low": min(s["low"] for s in seconds),
        "close": seconds[-1]["close"],
        "volume": volume,
        "vwap": sum(s["vwap"] * s["volume"] for s in seconds) / volume if volume else None,
        "count": len(seconds),
    }


@dataclass
class Frames:
    fps: float  # median
    p95_ms: float
    messages: int  # ripples messages the page received while measured
    redraws: int  # forming-bar changes in the DOM while measured


MOVES = """() => { window.__moves = 0;
  new MutationObserver(() => window.__moves++).observe(
    document.querySelector('svg[data-panel="price"]'),
    { subtree: true, attributes: true, attributeFilter: ['data-close', 'data-t'] }); }"""


# Each change of the forming bar: when (wall clock, ms), its minute and its volume.
FORMING_CHANGES = """() => { window.__forming = [];
  const svg = document.querySelector('svg[data-panel="price"]');
  new MutationObserver(() => {
    const f = svg.querySelector('[data-testid="forming-bar"]');
    if (f) window.__forming.push({ at: performance.timeOrigin + performance.now(),
                                   t: Number(f.dataset.t), volume: Number(f.dataset.volume) });
  }).observe(svg, { subtree: true, attributes: true, attributeFilter: ['data-volume', 'data-t'] });
}"""


def record_to_page_ms(
    changes: list[dict[str, float]], log: list[tuple[int, float, float]]
) -> list[float]:
    """For each distinct forming-bar change, the ms from producing the latest record it
    includes to the page showing it (matched by minute and running volume)."""
    sent = {(t, round(v, 6)): at for t, v, at in log}
    latencies: list[float] = []
    seen: set[tuple[int, float]] = set()
    for change in changes:
        key = (int(change["t"]), round(change["volume"], 6))
        if key in sent and key not in seen:
            seen.add(key)
            latencies.append(change["at"] - sent[key])
    return latencies


def measure_frames(page: Page, seconds: float) -> Frames:
    before = page.evaluate("[window.__dashboard.counters.ripples, window.__moves]")
    frames = np.diff(page.evaluate(FRAMES, seconds * 1000))
    after = page.evaluate("[window.__dashboard.counters.ripples, window.__moves]")
    return Frames(
        fps=1000 / float(np.median(frames)),
        p95_ms=float(np.percentile(frames, 95)),
        messages=after[0] - before[0],
        redraws=after[1] - before[1],
    )


def frame_rate(bench: Setup, rate: float, seconds: float) -> tuple[Frames, Frames, list[float]]:
    """The live chart (opened without a start: the day before the live clock, the updates'
    time) while ``rate`` updates a second arrive, then the same page once they have stopped;
    and the record → page latencies (ms) while they arrived."""
    with new_page(bench) as page, Updates(bench, rate) as updates:
        page.goto(bench.url(symbol=SYMBOL, timeframe="1Min"))
        page.wait_for_function(COMPLETE, polling="raf", timeout=120_000)
        page.wait_for_function("window.__dashboard.forming !== null", timeout=30_000)
        page.evaluate(MOVES)
        page.evaluate(FORMING_CHANGES)
        busy = measure_frames(page, seconds)
        updates.stop.set()
        latencies = record_to_page_ms(page.evaluate("window.__forming"), updates.log)
        time.sleep(2)
        idle = measure_frames(page, seconds)
    return busy, idle, latencies


def _median(values: list[float] | list[int]) -> str:
    return f"{statistics.median(values):,.0f}"


def benchmark(bench: Setup, args: argparse.Namespace) -> None:
    loads: dict[str, list[tuple[float, float, int]]] = {"LTTB": [], "full": []}
    bare: dict[str, list[float]] = {"LTTB": [], "full": []}
    frames: dict[str, list[Frames]] = {"idle": [], "updates": []}
    latency: list[tuple[float, float, int]] = []  # median, p95, moves matched
    width = None
    for run in range(1, args.runs + 1):
        for mode in ("LTTB", "full"):
            loads[mode].append(time_to_chart(bench, full=mode == "full"))
        width = width or loads["LTTB"][-1][2]
        bare["LTTB"].append(bare_query_ms(bench, width))
        bare["full"].append(bare_query_ms(bench, None))
        busy, idle, moves = frame_rate(bench, args.rate, args.seconds)
        frames["updates"].append(busy)
        frames["idle"].append(idle)
        if not moves:
            raise SystemExit("no forming-bar change on the page matched a record produced")
        latency.append((statistics.median(moves), float(np.percentile(moves, 95)), len(moves)))
        print(f"run {run}: complete chart {loads['LTTB'][-1][0]:,.0f} ms "
              f"(without downsampling {loads['full'][-1][0]:,.0f} ms); "
              f"{frames['updates'][-1].fps:.0f} fps under updates, "
              f"{frames['idle'][-1].fps:.0f} idle; record → page median "
              f"{latency[-1][0]:,.0f} ms, p95 {latency[-1][1]:,.0f} ms", flush=True)  # fmt: skip

    n = len(bench.bars["tNs"])
    print(f"\n(a) one year of 1-minute bars of {SYMBOL}: {n:,} bars; median of {args.runs} runs")
    print(f"{'':44}{'downsampled (LTTB)':>20}{'every bar':>14}")
    rows = (
        ("vertices drawn", [r[2] for r in loads["LTTB"]], [r[2] for r in loads["full"]]),
        ("navigation → complete polyline, ms", [r[0] for r in loads["LTTB"]],
         [r[0] for r in loads["full"]]),
        ("  of which the chart query in the page, ms", [r[1] for r in loads["LTTB"]],
         [r[1] for r in loads["full"]]),
        ("the bare series query (Python client), ms", bare["LTTB"], bare["full"]),
    )  # fmt: skip
    for label, lttb, full in rows:
        print(f"{label:44}{_median(lttb):>20}{_median(full):>14}")
    complete = statistics.median(r[0] for r in loads["LTTB"])
    print(
        f"target ≤ {TARGET_MS:,.0f} ms including the query: {complete / TARGET_MS:.2f}x the target"
    )

    print(f"\n(b) frame rate of the live chart (1 day of 1-minute bars), {args.seconds:g} s each; "
          f"median of {args.runs} runs")  # fmt: skip
    print(f"{'':44}{f'{args.rate:g} updates/s':>20}{'nothing arriving':>18}")
    for label, get in (
        ("median fps", lambda f: f.fps),
        ("p95 frame time, ms", lambda f: f.p95_ms),
        ("ripples messages received /s", lambda f: f.messages / args.seconds),
        ("forming-bar attribute changes /s", lambda f: f.redraws / args.seconds),
    ):
        busy = statistics.median(get(f) for f in frames["updates"])
        idle = statistics.median(get(f) for f in frames["idle"])
        print(f"{label:44}{busy:>20,.1f}{idle:>18,.1f}")

    print(f"\n(c) record → forming bar on the page at {args.rate:g} updates/s; median of "
          f"{args.runs} runs")  # fmt: skip
    p50 = statistics.median(r[0] for r in latency)
    p95 = statistics.median(r[1] for r in latency)
    print(f"{'forming-bar moves matched per run':44}{_median([r[2] for r in latency]):>20}")
    print(f"{'median, ms':44}{p50:>20,.0f}")
    print(f"{'p95, ms':44}{p95:>20,.0f}")
    print(f"target: the forming bar moves within {TARGET_MS:,.0f} ms: p95 "
          f"{p95 / TARGET_MS:.2f}x the target")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dashboard",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0, help="updates per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="frames measured per run")
    args = parser.parse_args(argv)
    settings = Settings()
    with setup(settings) as bench:
        benchmark(bench, args)


if __name__ == "__main__":
    main()
