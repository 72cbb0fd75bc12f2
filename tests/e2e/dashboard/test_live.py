"""The chart kept live by the pipeline: trades the replay server sends go through ``streamlines
ingest``, Kafka and the ripples job on the cluster to the GraphQL subscription; the page's forming
bar follows the trades (each move matched to the trades it includes), closed minutes grow the
polyline, and a dropped websocket comes back without a reload, a re-fetch or a doubled vertex.

How fast the forming bar follows is printed here, not asserted: speed is measured in
``benchmarks.dashboard`` (record → page, target 1 s) and ``benchmarks.e2e_latency`` (the replay
server's send → a subscriber)."""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections import defaultdict
from typing import Any

import numpy as np
from playwright.sync_api import Page

from connectors.topic_reader import read_to_end
from streamlines.settings import Settings
from tests.e2e.dashboard.conftest import Pipeline
from tests.e2e.dashboard.reading import drawn_with_data, open_dashboard

SYMBOL = "SP500"
WATCH_S = 15
# Seconds the chart runs before the watch: on a cluster just started (CI brings the stack up
# for the first test) the jobs' first seconds are slower than their steady state.
WARM_UP_S = 10

# Every change to the price panel's SVG: when (wall clock, ms, as the replay server's send log),
# the forming bar's attributes and the polyline's vertex count.
RECORD_CHANGES = """() => {
  window.__changes = [];
  const svg = document.querySelector('svg[data-panel="price"]');
  const note = () => {
    const f = svg.querySelector('[data-testid="forming-bar"]');
    const points = svg.querySelector('[data-testid="price-line"]').getAttribute('points') || '';
    window.__changes.push({
      at: performance.timeOrigin + performance.now(),
      t: f ? Number(f.dataset.t) : null,
      volume: f ? Number(f.dataset.volume) : null,
      close: f ? Number(f.dataset.close) : null,
      n: points.trim() ? points.trim().split(/\\s+/).length : 0,
    });
  };
  new MutationObserver(note).observe(svg, { subtree: true, attributes: true, childList: true });
  note();
}"""


def live_chart(pipeline: Pipeline, page: Page) -> dict[str, Any]:
    """The chart opened on the live clock (no start), once live bars move it."""
    info = open_dashboard(page, pipeline.url(symbol=SYMBOL, timeframe="1Min"))
    page.wait_for_function("window.__dashboard.forming !== null", timeout=30_000)
    return info


def second_bars(bootstrap: str, topic: str) -> dict[int, list[tuple[int, dict[str, float]]]]:
    """The ripples job's 1-second bars of the symbol on the topic, by the minute they start in
    (ms), in time order, each as (its start, ns; its values). A record's t_ns is its window's
    end."""
    by_minute: dict[int, list[tuple[int, dict[str, float]]]] = defaultdict(list)
    for record in read_to_end(bootstrap, topic):
        value = json.loads(record.value)
        if value["symbol"] == SYMBOL and value["metric"] == "bar_1s":
            start = value["t_ns"] - 1_000_000_000
            by_minute[start // 60_000_000_000 * 60_000].append((start, value["values"]))
    return {m: sorted(bars, key=lambda b: b[0]) for m, bars in by_minute.items()}


def trade_to_dom_latencies(
    changes: list[dict[str, Any]], minutes: dict[int, list[tuple[int, dict[str, float]]]],
    sent: list[tuple[str, int, int]],
) -> list[float]:  # fmt: skip
    """For each forming-bar change on the page, the ms from the replay server sending the latest
    trade it includes to the page showing it. The change is matched to the 1-second bars it
    aggregates by its volume (the minute's running total) and checked by its close."""
    sent_ns = sorted((t, s) for symbol, t, s in sent if symbol == SYMBOL)
    event_times = np.array([t for t, _ in sent_ns], dtype=np.int64)
    sent_times = np.array([s for _, s in sent_ns], dtype=np.int64)
    latencies: list[float] = []
    seen: set[tuple[int, float]] = set()
    for change in changes:
        key = (change["t"], change["volume"])
        if change["t"] is None or key in seen or change["t"] not in minutes:
            continue
        seen.add(key)
        total = 0.0
        for t_ns, values in minutes[change["t"]]:
            total += values["volume"]
            if np.isclose(total, change["volume"], rtol=1e-12):
                assert values["close"] == change["close"], (change, values)
                # the trades of that second: sent before the page could show them
                lo, hi = np.searchsorted(event_times, [t_ns, t_ns + 1_000_000_000])
                if hi > lo:
                    latencies.append(change["at"] - sent_times[lo:hi].max() / 1e6)
                break
    return latencies


def test_new_trades_grow_the_chart_and_move_the_forming_bar(
    live_pipeline: Pipeline, page: Page, settings: Settings
) -> None:
    info = live_chart(live_pipeline, page)
    time.sleep(WARM_UP_S)
    page.evaluate(RECORD_CHANGES)
    time.sleep(WATCH_S)
    changes: list[dict[str, Any]] = page.evaluate("window.__changes")
    drawn, data = drawn_with_data(page)
    sent = live_pipeline.replay.call("GET", "/control/send-log")["trades"]

    # The chart grew: minutes closed while watching became vertices (one a second at 60x).
    assert changes[-1]["n"] >= changes[0]["n"] + WATCH_S // 2, (changes[0], changes[-1])
    assert page.evaluate("window.__dashboard.query.points") == info["points"]  # no re-fetch
    assert all(a < b for a, b in zip(data["t"], data["t"][1:], strict=False))
    assert len(drawn) == len(data["t"])

    latencies = trade_to_dom_latencies(
        changes, second_bars(settings.kafka_bootstrap, live_pipeline.names["ripples"]), sent
    )
    assert len(latencies) >= WATCH_S * 2, f"only {len(latencies)} forming-bar moves matched"
    p50, p95 = statistics.median(latencies), float(np.percentile(latencies, 95))
    print(f"trade → forming bar on the page: {len(latencies)} moves, median {p50:.0f} ms, "
          f"p95 {p95:.0f} ms, max {max(latencies):.0f} ms")  # fmt: skip
    assert min(latencies) > 0  # no move shown before the trades it includes were sent


def test_a_dropped_websocket_reconnects_and_resumes_without_a_reload(
    live_pipeline: Pipeline, page: Page
) -> None:
    live_chart(live_pipeline, page)
    page.evaluate("window.__kept = 'the same page'")
    status = page.locator('[data-testid="ws-status"]')
    assert status.inner_text().strip() == "connected"
    before = page.evaluate(
        "[window.__dashboard.counters.ripples, window.__dashboard.data.t.length]"
    )
    queried = page.evaluate("window.__dashboard.query")

    page.evaluate("window.__dashboard.dropSocket()")
    page.wait_for_function(
        "document.querySelector('[data-testid=ws-status]').textContent.trim() === 'reconnecting'",
        timeout=5_000,
    )
    page.wait_for_function(
        "document.querySelector('[data-testid=ws-status]').textContent.trim() === 'connected'",
        timeout=10_000,
    )
    # Live again: more messages, more closed minutes.
    page.wait_for_function(
        f"window.__dashboard.counters.ripples > {before[0]} + 20 && "
        f"window.__dashboard.data.t.length > {before[1]} + 3",
        timeout=20_000,
    )
    assert page.evaluate("window.__kept") == "the same page"  # no reload
    assert page.evaluate("window.__dashboard.query") == queried  # no re-fetch
    drawn, data = drawn_with_data(page)
    assert len(set(data["t"])) == len(data["t"]), "a vertex doubled"
    assert all(a < b for a, b in zip(data["t"], data["t"][1:], strict=False))
    xs = [x for x, _ in drawn]
    assert len(xs) == len(data["t"])
    assert all(a < b for a, b in itertools.pairwise(xs))
