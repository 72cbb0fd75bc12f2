"""The demo's currents on the real stack: the live job as the demo submits it (Flink cluster,
``streamlines.demo.jobs``) and a history run as the demo starts it (``streamlines.demo.history``),
with the replay's clock at 2012 and history gathered up to 2018.

The issue this guards: in one job the watermark is the least of its inputs', so the live bars
(2012) held every history bar after them, and a backfill to 2018 got indicators to 2012 only.
Every indicator of the S&P 500's real daily bars 2010-2018 must come out here, equal to pandas,
as must the live minute bars' (generated from GOOG's real 2012-01-03 bar by the replay), all but
the last (the watermark has not passed it).
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Sequence

import pandas as pd
from kafka import KafkaConsumer

from connectors.replay.aggregate import Bars
from connectors.replay.timeframe import AlpacaTimeframe
from connectors.replay.universe import build_universe
from connectors.sinks.kafka import ensure_topics
from streamlines.contracts.events import AnalyticsRecord, Bar, HistoryBar
from streamlines.contracts.indicators import expand
from streamlines.datasets import load_bars
from streamlines.demo.history import HistoryRuns
from streamlines.demo.jobs import demo_jobs, submit
from streamlines.settings import Settings
from streamlines.stack.services.flink import FlinkService
from tests.references.currents import assert_close, expected_indicators
from tests.support.kafka import AnalyticsRecords, produce

LIVE_DAY = "2012-01-03"  # the replay's first session (Settings.replay_start)
LIVE_BARS = 120
HISTORY_FROM = "2010-01-01"


def live_bars() -> list[Bar]:
    """GOOG's first minute bars of the replay's first session, as ingest writes them."""
    t0 = int(pd.Timestamp(LIVE_DAY, tz="UTC").value)
    feed = build_universe(symbols=["GOOG"]).get("GOOG")
    assert feed is not None
    day = pd.Timedelta(days=1).value
    bars = Bars.concat(list(feed.iter_bars(AlpacaTimeframe.parse("1Min"), t0, t0 + day - 1)))
    return [
        Bar(symbol="GOOG", timeframe="1Min", t_ns=int(bars.t[i]), open=float(bars.open[i]),
            high=float(bars.high[i]), low=float(bars.low[i]), close=float(bars.close[i]),
            volume=float(bars.volume[i]))
        for i in range(LIVE_BARS)
    ]  # fmt: skip


def history_bars() -> list[HistoryBar]:
    """The S&P 500's real daily bars from 2010 on, as gather writes them."""
    spx = load_bars("SP500").loc[HISTORY_FROM:]
    events: list[HistoryBar] = []
    for ts, row in zip(spx.index, spx.itertuples(), strict=True):
        prices = {k: float(getattr(row, k)) for k in ("open", "high", "low", "close")}
        adjusted = {f"adj_{k}": v for k, v in prices.items()}
        events.append(
            HistoryBar(symbol="SP500", timeframe="1Day", t_ns=int(ts.value), **prices,
                       volume=float(row.volume), **adjusted, adj_volume=float(row.volume),
                       adj_factor=1.0)
        )  # fmt: skip
    return events


def closes(bars: Sequence[Bar]) -> pd.Series:
    return pd.Series([b.close for b in bars], index=[b.t_ns for b in bars])


def read_until(
    topic: str, settings: Settings, expected: dict[str, pd.DataFrame]
) -> AnalyticsRecords:
    """The output's records by metric, read until every expected (metric, t_ns) is there (or
    3 minutes without one)."""
    want = {(metric, int(t)) for metric, frame in expected.items() for t in frame.index}
    got: AnalyticsRecords = {}
    consumer = KafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=180_000,
    )  # fmt: skip
    try:
        for record in consumer:
            for stored in expand(AnalyticsRecord.from_wire(record.value)):
                got.setdefault(stored.metric, {})[stored.symbol, stored.t_ns] = stored.values
                want.discard((stored.metric, stored.t_ns))
            if not want:
                break
    finally:
        consumer.close()
    return got


def check(got: AnalyticsRecords, symbol: str, expected: dict[str, pd.DataFrame]) -> None:
    for metric, frame in expected.items():
        records = {t: v for (s, t), v in got.get(metric, {}).items() if s == symbol}
        assert sorted(records) == list(frame.index), f"{metric} {symbol}"
        for t_ns, row in frame.iterrows():
            assert_close(records[t_ns], row.to_dict(), f"{metric} {symbol} {t_ns}")


def test_history_later_than_the_live_clock_gets_its_indicators(stack, settings, unique_name):
    settings = settings.model_copy(
        update={
            "ingest_topic_bars": f"{unique_name}-bars",
            "gather_topic": f"{unique_name}-history",
            "graphql_currents_topic": f"{unique_name}-currents",
        }
    )
    topics = [settings.ingest_topic_bars, settings.gather_topic, settings.graphql_currents_topic]
    ensure_topics(settings.kafka_bootstrap, topics)
    live, history = live_bars(), history_bars()
    assert history[-1].t_ns > live[-1].t_ns  # the history reaches far past the live clock
    produce(settings.kafka_bootstrap, settings.gather_topic, history)

    job = next(j for j in demo_jobs(settings, time.time_ns() // 1_000_000) if j.job == "currents")
    job_id = submit(settings, job)
    try:
        FlinkService(settings).wait_until_job_running(job_id, timeout=300)
        produce(settings.kafka_bootstrap, settings.ingest_topic_bars, live)
        log = settings.state_dir / "logs" / f"{unique_name}.log"
        runs = HistoryRuns(settings, log)
        runs.look(len(history))
        assert runs.look(len(history)) == "run 1 computing"
        assert runs.wait(900) == 0, log.read_text()[-3000:]

        daily = expected_indicators(closes(history), "1Day")
        minute = expected_indicators(closes(live[:-1]), "1Min")
        got = read_until(settings.graphql_currents_topic, settings, {**daily, **minute})
    finally:
        url = f"{settings.flink_rest_url}/jobs/{job_id}?mode=cancel"
        urllib.request.urlopen(urllib.request.Request(url, method="PATCH"))

    check(got, "SP500", daily)
    check(got, "GOOG", minute)
    assert max(t for _, t in got["sma_1Day"]) == history[-1].t_ns
