"""The side panels, live from the currents job on the cluster (history, then the live bars ingest
publishes): the volatility ranking equals the ``volatilityRanking`` query at the round the page
shows (and a pandas computation of that round from the bars), the signal feed equals the
``signals`` query, and the pipeline health shows a real consumer group's lag."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pandas as pd
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from playwright.sync_api import Page

from connectors.topic_reader import read_to_end
from graphql_server.client import query
from streamlines.settings import Settings
from tests.e2e.dashboard.conftest import SYMBOLS, Pipeline
from tests.e2e.dashboard.reading import open_dashboard

RANKING = """query($at: DateTime!) { volatilityRanking(at: $at, limit: 20, by: REL_STD) {
  updatedAt tNs symbols entries { rank symbol std relStd mean count } } }"""
SIGNALS = """query($symbols: [String!]!, $start: DateTime!, $end: DateTime) {
  signals(symbols: $symbols, start: $start, end: $end, timeframe: MINUTE_1) {
    symbol name tNs direction flipped } }"""
BARS = """query($symbol: String!, $start: DateTime!, $end: DateTime!) {
  series(symbol: $symbol, start: $start, end: $end, timeframe: MINUTE_1) { data { tNs close } } }"""
DAY_MS = 86_400_000
# Rows the signal feed keeps (dashboard/src/panels/SignalFeed.svelte).
FEED_LIMIT = 200


def shown_ranking(page: Page) -> dict[str, Any]:
    """The ranking panel as drawn, read in one go: its round's time and its rows."""
    found: dict[str, Any] = page.evaluate("""() => ({
      updatedAt: document.querySelector('[data-testid=ranking-updated-at]')
        .getAttribute('datetime'),
      rows: [...document.querySelectorAll('[data-testid=ranking-row]')].map(r => [
        Number(r.dataset.rank), r.dataset.symbol,
        r.dataset.value === '' ? null : Number(r.dataset.value),
      ]),
    })""")
    return found


def closes_before(pipeline: Pipeline, bootstrap: str, symbol: str, t_ns: int) -> pd.Series:
    """The 1-minute closes of a symbol in the 24 hours before ``t_ns``: the gathered history (the
    series query) and the live bars ingest published (its bars topic)."""
    start = pd.Timestamp(t_ns - DAY_MS * 1_000_000, tz="UTC")
    end = pd.Timestamp(t_ns, tz="UTC")
    variables = {"symbol": symbol, "start": start.isoformat(), "end": end.isoformat()}
    stored = query(pipeline.graphql, BARS, variables)["series"]["data"]
    closes = dict(zip(map(int, stored["tNs"]), stored["close"], strict=True))
    for record in read_to_end(bootstrap, pipeline.names["bars"]):
        bar = json.loads(record.value)
        ours = bar["symbol"] == symbol and bar.get("timeframe", "1Min") == "1Min"
        if ours and start.value <= bar["t_ns"] < t_ns:
            closes.setdefault(bar["t_ns"], bar["close"])
    return pd.Series(closes, dtype=float).sort_index()


def test_the_ranking_panel_equals_the_volatility_ranking_query_at_its_round(
    live_pipeline: Pipeline, page: Page, settings: Settings
) -> None:
    open_dashboard(page, live_pipeline.url(symbol="SP500", timeframe="1Min"))
    # rounds of the live session (the replay's minutes pass at 60x): wait for one to be shown
    page.wait_for_selector('[data-testid="ranking-row"]', timeout=120_000)
    shown = shown_ranking(page)
    assert shown["rows"], shown

    # the same round from InfluxDB, once the sink has written it
    deadline, answer = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        answer = query(live_pipeline.graphql, RANKING, {"at": shown["updatedAt"]})
        got = answer["volatilityRanking"]
        same_round = got and pd.Timestamp(got["updatedAt"]) == pd.Timestamp(shown["updatedAt"])
        if same_round and got["symbols"] == len(got["entries"]) == len(shown["rows"]):
            break
        time.sleep(1)
    assert answer is not None
    round_ = answer["volatilityRanking"]
    assert round_ is not None
    assert pd.Timestamp(round_["updatedAt"]) == pd.Timestamp(shown["updatedAt"])
    assert shown["rows"] == [[e["rank"], e["symbol"], e["relStd"]] for e in round_["entries"]]

    # ... and from the bars, independently: the sample deviation of each symbol's closes in the
    # 24 hours before the round over their mean, most volatile first
    t_ns = int(round_["tNs"])
    expected = []
    for symbol in SYMBOLS:
        closes = closes_before(live_pipeline, settings.kafka_bootstrap, symbol, t_ns)
        if len(closes):
            expected.append((symbol, closes.std(ddof=1) / closes.mean(), len(closes)))
    assert {e["symbol"]: e["count"] for e in round_["entries"]} == {s: n for s, _, n in expected}
    ranked = sorted((e for e in expected if not math.isnan(e[1])), key=lambda e: -e[1])
    shown_values = {symbol: value for _, symbol, value in shown["rows"]}
    for symbol, rel_std, _ in ranked:
        assert math.isclose(shown_values[symbol], rel_std, rel_tol=1e-9), symbol
    assert [symbol for _, symbol, _ in shown["rows"]][: len(ranked)] == [s for s, _, _ in ranked]


def test_the_signal_feed_shows_the_signals_query(live_pipeline: Pipeline, page: Page) -> None:
    # the currents job's output waits for the first live bar (see jobs.currents)
    pipeline = live_pipeline
    # the feed watches the symbols the server lists (those with live data, once sunk)
    deadline, watched = time.monotonic() + 60, list[str]()
    while not {"GOOG", "SP500"} <= set(watched) and time.monotonic() < deadline:
        time.sleep(1)
        watched = query(pipeline.graphql, "{ symbols }")["symbols"]
    assert {"GOOG", "SP500"} <= set(watched), watched
    end = "2012-01-06T00:00:00Z"
    open_dashboard(page, pipeline.url(symbol="SP500", timeframe="1Min", start="2012-01-05",
                                      end=end))  # fmt: skip

    def asked(start: str, until: str | None) -> set[tuple[Any, ...]]:
        found = query(pipeline.graphql, SIGNALS, {"symbols": watched, "start": start,
                                                  "end": until})["signals"]  # fmt: skip
        return {(s["symbol"], s["name"], int(s["tNs"]) // 1_000_000, s["direction"], s["flipped"])
                for s in found}  # fmt: skip

    # The feed's history: the day up to the chart's end (its last minute included).
    window_end = pd.Timestamp(end) + pd.Timedelta(minutes=1)
    history = asked((window_end - pd.Timedelta(days=1)).isoformat(), window_end.isoformat())
    assert len(history) >= 5, "too few signals to mean anything"

    def feed() -> tuple[list[list[Any]], set[tuple[Any, ...]]]:
        """The rows shown, and the history the feed should show with them: all of it but what
        is older than its oldest row once it holds FEED_LIMIT (live flips come at 60x)."""
        rows: list[list[Any]] = page.eval_on_selector_all(
            '[data-testid="signal-row"]',
            """rs => rs.map(r => [r.dataset.symbol, r.dataset.name, Number(r.dataset.t),
                                 r.dataset.direction, r.dataset.flipped === 'true'])""",
        )
        oldest = min(r[2] for r in rows) if len(rows) >= FEED_LIMIT else -1
        return rows, {h for h in history if h[2] >= oldest}

    # the subscription's first messages may come before the history query's answer
    deadline = time.monotonic() + 60
    rows, kept = feed()
    while not kept <= {tuple(r) for r in rows} and time.monotonic() < deadline:
        time.sleep(0.5)
        rows, kept = feed()
    shown = {tuple(r) for r in rows}
    assert len(shown) == len(rows), "a signal shown twice"
    assert len(rows) <= FEED_LIMIT
    assert kept, "no history shown"
    feed_error = page.locator('[data-testid="signal-feed"] .error').all_inner_texts()
    assert kept <= shown, (feed_error, sorted(kept - shown)[:5])
    # ... and whatever the subscription added is a signal the server has too (once sunk)
    deadline = time.monotonic() + 30
    while (
        not shown <= asked("2012-01-01T00:00:00Z", "2012-03-01T00:00:00Z")
        and time.monotonic() < deadline
    ):
        time.sleep(1)
    assert shown <= asked("2012-01-01T00:00:00Z", "2012-03-01T00:00:00Z")
    assert rows == sorted(rows, key=lambda r: -r[2]), "not newest first"


def test_the_health_panel_shows_a_consumer_groups_lag(
    pipeline: Pipeline, page: Page, settings: Settings
) -> None:
    # A real consumer group with a lag that stands still: committed halfway through the
    # history topic (which nothing writes to any more).
    group = f"{pipeline.names['history']}-reader"
    topic = pipeline.names["history"]
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                             enable_auto_commit=False)  # fmt: skip
    try:
        partition = TopicPartition(topic, 0)
        end = consumer.end_offsets([partition])[partition]
        assert end > 1000
        consumer.assign([partition])
        consumer.commit({partition: OffsetAndMetadata(end // 2, "", -1)})
    finally:
        consumer.close()

    open_dashboard(page, pipeline.url(symbol="SP500", timeframe="1Min", start="2012-01-05",
                                      end="2012-01-06"))  # fmt: skip
    row = page.locator(f'[data-testid="consumer-lag"][data-group="{group}"][data-topic="{topic}"]')
    row.wait_for(timeout=30_000)
    assert int(row.get_attribute("data-lag") or "-1") == end - end // 2
    # and the pipeline's ripples job (named after its topics), running
    jobs = page.eval_on_selector_all(
        '[data-testid="job-health"]', "js => js.map(j => [j.dataset.name, j.dataset.state])"
    )
    assert [state for name, state in jobs if pipeline.names["trades"] in name] == ["RUNNING"]
