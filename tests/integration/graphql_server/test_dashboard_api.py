"""The dashboard's API on the real InfluxDB, Kafka and Flink: series downsampled on the server
equal the reference downsampling of the same real bars; the currents subscriptions (indicators,
signals, volatility ranking) stream records produced to a topic of the test's own; pipeline
health shows a real consumer group's lag; the built dashboard is served at /dashboard/."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from connectors.sinks.influx import InfluxWriter
from connectors.sinks.kafka import ensure_topics
from graphql_server.client import query, subscribe
from streamlines.child import graphql_server_process
from streamlines.contracts.events import AnalyticsRecord, HistoryBar
from streamlines.contracts.influx import MEASUREMENT_CURRENTS
from streamlines.contracts.points import analytics_point, bar_line
from streamlines.datasets import load_daily_bars
from streamlines.settings import Settings
from tests.references.compare import assert_close
from tests.support.downsample import reference_lttb, reference_minmax

T = 1_325_601_000_000_000_000  # 2012-01-03T14:30:00Z
MINUTE = 60 * 10**9


@pytest.fixture
def currents_topic(stack, settings: Settings, unique_name: str) -> str:
    name = f"{unique_name}.currents"
    ensure_topics(settings.kafka_bootstrap, [name])
    return name


@pytest.fixture
def market(make_bucket: Callable[[str], str]) -> str:
    return make_bucket("market")


@pytest.fixture
def server(stack, market: str, bucket: str, currents_topic: str, tmp_path: Path) -> Iterator[str]:
    env = {
        "STREAMLINES_GATHER_BUCKET": market,
        "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": bucket,
        "STREAMLINES_GRAPHQL_CURRENTS_TOPIC": currents_topic,
        "STREAMLINES_GRAPHQL_HEALTH_POLL_SECONDS": "0.5",
    }
    with graphql_server_process(env, log_path=tmp_path / "graphql.log") as url:
        yield url


@pytest.fixture
def producer(stack, settings: Settings) -> Iterator[Callable[[str, list[AnalyticsRecord]], None]]:
    kafka = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")

    def send(topic: str, records: list[AnalyticsRecord]) -> None:
        for record in records:
            kafka.send(topic, key=record.symbol.encode(), value=record.to_wire())
        kafka.flush(30)

    yield send
    kafka.close()


def sp500_bars() -> list[HistoryBar]:
    frame = load_daily_bars("SP500")
    return [
        HistoryBar(
            symbol="SP500", timeframe="1Day", t_ns=int(t), open=o, high=h, low=lo, close=c,
            volume=v, adj_open=o, adj_high=h, adj_low=lo, adj_close=c, adj_volume=v,
            adj_factor=1.0, trade_count=k,
        )
        for k, (t, o, h, lo, c, v) in enumerate(zip(
            frame.index.asi8, frame["open"], frame["high"], frame["low"], frame["close"],
            frame["volume"], strict=True,
        ))
    ]  # fmt: skip


SERIES = """query($n: Int, $how: Downsample!) {
  series(symbol: "SP500", start: "1990-01-01", end: "2020-01-01", maxPoints: $n,
         downsample: $how) {
    sourcePoints downsampled data { tNs open high low close volume tradeCount } } }"""


def test_series_downsampled_on_the_server_equals_the_reference_on_real_bars(
    settings, market, server
):
    bars = sp500_bars()
    with InfluxWriter.from_settings(settings, market) as writer:
        writer.write(bar_line(b) for b in bars)
    xs = [float(b.t_ns - bars[0].t_ns) for b in bars]
    closes = [b.close for b in bars]
    expected = {
        "LTTB": reference_lttb(xs, closes, 500),
        "MINMAX": reference_minmax(closes, 500),
    }
    for how, picked in expected.items():
        series = query(server, SERIES, {"n": 500, "how": how})["series"]
        assert (series["sourcePoints"], series["downsampled"]) == (len(bars), True)
        data = series["data"]
        assert data["tNs"] == [str(bars[i].t_ns) for i in picked], how
        # whole bars: every column of the bars picked, exactly as stored
        assert data["close"] == [bars[i].close for i in picked]
        assert data["open"] == [bars[i].open for i in picked]
        assert data["low"] == [bars[i].low for i in picked]
        assert data["volume"] == [bars[i].volume for i in picked]
        assert data["tradeCount"] == [bars[i].trade_count for i in picked]
    whole = query(server, SERIES, {"n": 10_000, "how": "LTTB"})["series"]
    assert (whole["sourcePoints"], whole["downsampled"]) == (len(bars), False)
    assert whole["data"]["close"] == closes
    plain = query(
        server,
        '{ series(symbol: "SP500", start: "2018-01-01", end: "2018-02-01") '
        "{ sourcePoints downsampled data { close } } }",
    )["series"]
    assert plain["sourcePoints"] == len(plain["data"]["close"]) == 21
    assert plain["downsampled"] is False


INDICATORS_DOWNSAMPLED = """query($n: Int!, $how: Downsample!) {
  series(symbol: "SP500", start: "1990-01-01", end: "2020-01-01", maxPoints: $n,
         downsample: $how) { data { tNs } }
  indicators(symbol: "SP500", names: [SMA], start: "1990-01-01", end: "2020-01-01",
             maxPoints: $n, downsample: $how) { name tNs values } }"""


def test_indicators_downsampled_are_the_values_at_the_bars_series_keeps(
    settings, market, bucket, server
):
    """pandas' rolling means of the real closes, stored as the currents job stores them (none
    while a period warms up); with maxPoints, indicators answers at exactly the bars series
    keeps, in one request, null where a period had not filled yet."""
    bars = sp500_bars()
    closes = pd.Series([b.close for b in bars])
    means = {f"sma_{n}": closes.rolling(n).mean() for n in (20, 50)}
    records = [
        AnalyticsRecord(symbol="SP500", metric="sma_1Day", t_ns=bar.t_ns, values={
            name: float(values.iloc[i]) for name, values in means.items()
            if not np.isnan(values.iloc[i])
        })
        for i, bar in enumerate(bars)
        if i >= 19
    ]  # fmt: skip
    with InfluxWriter.from_settings(settings, market) as writer:
        writer.write(bar_line(b) for b in bars)
    with InfluxWriter.from_settings(settings, bucket) as writer:
        writer.write(analytics_point(r, MEASUREMENT_CURRENTS) for r in records)
    position = {b.t_ns: i for i, b in enumerate(bars)}
    for how in ("LTTB", "MINMAX"):
        answer = query(server, INDICATORS_DOWNSAMPLED, {"n": 300, "how": how})
        kept = answer["series"]["data"]["tNs"]
        (sma,) = answer["indicators"]
        assert sma["tNs"] == kept
        assert len(kept) <= 300
        if how == "LTTB":  # it keeps the first bar: a warm-up bar, drawn with null SMAs
            assert kept[0] == str(bars[0].t_ns)
        for name, values in means.items():
            want = [values.iloc[position[int(t)]] for t in kept]
            got = sma["values"][name]
            assert [v is None for v in got] == [bool(np.isnan(w)) for w in want], name
            assert_close(
                {i: v for i, v in enumerate(got) if v is not None},
                {i: float(w) for i, w in enumerate(want) if not np.isnan(w)},
                f"{how} {name}",
            )


def wait_for_currents(url: str, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    health: dict = {}
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url.replace("/graphql", "/healthz"), timeout=5) as answer:
            health = json.loads(answer.read())
        if health["currents_received"] >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"the server's currents feed did not read {count} records: {health}")


def record(symbol: str, metric: str, t_ns: int, **values: float | None) -> AnalyticsRecord:
    return AnalyticsRecord(symbol=symbol, metric=metric, t_ns=t_ns, values=values)


async def first(
    url: str,
    document: str,
    variables: dict[str, Any],
    count: int,
    then: Callable[[], None] | None = None,
) -> list[dict]:
    """The first ``count`` messages; ``then`` runs (in a thread) after the first."""
    received: list[dict] = []
    stream = subscribe(url, document, variables)
    async for data in stream:
        received.append(next(iter(data.values())))
        if len(received) == 1 and then is not None:
            await asyncio.to_thread(then)
        if len(received) == count:
            break
    await stream.aclose()
    return received


INDICATORS = """subscription($symbol: String!, $timeframe: BarTimeframe!) {
  indicators(symbol: $symbol, timeframe: $timeframe) { name tNs values } }"""


def test_indicators_start_with_the_latest_then_stream_each_bar(server, currents_topic, producer):
    producer(currents_topic, [
        record("GOOG", "sma_1Min", T, sma_20=580.5, sma_50=None),
        record("GOOG", "sma_1Min", T + MINUTE, sma_20=580.75, sma_50=None),
        record("GOOG", "rsi_1Day", T, rsi_14=55.0),  # another timeframe
        record("SPY", "sma_1Min", T, sma_20=128.0),  # another symbol
        record("GOOG", "cross_sma50_sma200_1Min", T, signal=1.0, cross=0.0, fast=2.0, slow=1.0),
    ])  # fmt: skip
    wait_for_currents(server, 5)
    later = [
        record("GOOG", "rsi_1Min", T + 2 * MINUTE, rsi_14=61.25),
        record("GOOG", "macd_1Min", T + 2 * MINUTE, macd=0.5, signal=None, histogram=None),
    ]
    received = asyncio.run(asyncio.wait_for(first(
        server, INDICATORS, {"symbol": "GOOG", "timeframe": "MINUTE_1"}, 3,
        lambda: producer(currents_topic, later),
    ), 60))  # fmt: skip
    assert received == [
        {"name": "SMA", "tNs": str(T + MINUTE), "values": {"sma_20": 580.75, "sma_50": None}},
        {"name": "RSI", "tNs": str(T + 2 * MINUTE), "values": {"rsi_14": 61.25}},
        {"name": "MACD", "tNs": str(T + 2 * MINUTE),
         "values": {"macd": 0.5, "signal": None, "histogram": None}},
    ]  # fmt: skip


SIGNALS = """subscription($symbols: [String!]!, $timeframe: BarTimeframe) {
  signals(symbols: $symbols, timeframe: $timeframe) {
    symbol name timeframe tNs direction flipped fast slow } }"""


def test_signals_stream_the_crossover_flips(server, currents_topic, producer):
    producer(currents_topic, [
        record("GOOG", "cross_sma50_sma200_1Min", T, signal=1.0, cross=0.0, fast=2.0, slow=1.0),
        record("GOOG", "sma_1Min", T, sma_20=1.0),
        record("GOOG", "cross_ema12_ema26_1Day", T, signal=-1.0, cross=1.0, fast=1.0, slow=2.0),
    ])  # fmt: skip
    wait_for_currents(server, 3)
    flip = record("GOOG", "cross_sma50_sma200_1Min", T + MINUTE, signal=-1.0, cross=1.0,
                  fast=0.5, slow=1.0)  # fmt: skip
    received = asyncio.run(asyncio.wait_for(first(
        server, SIGNALS, {"symbols": ["GOOG"], "timeframe": "MINUTE_1"}, 2,
        lambda: producer(currents_topic, [flip]),
    ), 60))  # fmt: skip
    assert received == [
        {"symbol": "GOOG", "name": "sma50_sma200", "timeframe": "MINUTE_1", "tNs": str(T),
         "direction": "BULLISH", "flipped": False, "fast": 2.0, "slow": 1.0},
        {"symbol": "GOOG", "name": "sma50_sma200", "timeframe": "MINUTE_1",
         "tNs": str(T + MINUTE), "direction": "BEARISH", "flipped": True, "fast": 0.5,
         "slow": 1.0},
    ]  # fmt: skip
    every = asyncio.run(asyncio.wait_for(first(server, SIGNALS, {"symbols": ["GOOG"]}, 2), 60))
    # the latest of each pair, oldest first
    assert [(s["name"], s["timeframe"]) for s in every] == [
        ("ema12_ema26", "DAY_1"),
        ("sma50_sma200", "MINUTE_1"),
    ]


RANKING = """subscription($limit: Int!, $by: VolatilityMeasure!) {
  volatilityRanking(limit: $limit, by: $by) {
    updatedAt tNs by symbols entries { rank symbol std relStd mean count } } }"""


def volatility(symbol: str, t_ns: int, std: float, mean: float) -> AnalyticsRecord:
    return record(symbol, "volatility_24h", t_ns, std=std, mean=mean, rel_std=std / mean,
                  count=390.0)  # fmt: skip


def test_the_ranking_is_sent_once_per_round_with_one_updated_at(server, currents_topic, producer):
    producer(currents_topic, [
        volatility("GOOG", T - MINUTE, 9.0, 600.0),  # an older round
        volatility("GOOG", T, 2.0, 600.0),
        volatility("SPY", T, 1.0, 130.0),
        volatility("AAPL", T, 3.0, 400.0),
    ])  # fmt: skip
    wait_for_currents(server, 4)
    next_round = [
        volatility("GOOG", T + MINUTE, 6.0, 601.0),
        volatility("SPY", T + MINUTE, 0.5, 131.0),
        volatility("AAPL", T + MINUTE, 1.0, 401.0),
    ]
    received = asyncio.run(asyncio.wait_for(first(
        server, RANKING, {"limit": 2, "by": "REL_STD"}, 2,
        lambda: producer(currents_topic, next_round),
    ), 60))  # fmt: skip
    latest, new = received
    assert (latest["tNs"], latest["symbols"], latest["updatedAt"]) == (
        str(T),
        3,
        "2012-01-03T14:30:00+00:00",
    )
    assert [e["symbol"] for e in latest["entries"]] == ["SPY", "AAPL"]  # 1/130 > 3/400 > 2/600
    assert latest["entries"][0] == {"rank": 1, "symbol": "SPY", "std": 1.0,
                                    "relStd": 1.0 / 130.0, "mean": 130.0, "count": 390}  # fmt: skip
    assert (new["tNs"], new["symbols"]) == (str(T + MINUTE), 3)  # the whole round in one
    assert [e["symbol"] for e in new["entries"]] == ["GOOG", "SPY"]  # 6/601 > 0.5/131
    # the query ranks the same way (its rounds come from InfluxDB, written by the sink)


def committed_group(settings: Settings, topic: str, group: str, produced: int, committed: int):
    kafka = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    for k in range(produced):
        kafka.send(topic, key=b"GOOG", value=json.dumps({"k": k}).encode())
    kafka.flush(30)
    kafka.close()
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                             enable_auto_commit=False)  # fmt: skip
    consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(committed, "", -1)})
    consumer.close()


HEALTH = """{ pipelineHealth { updatedAt kafkaError flinkError consumers { group topic lag }
  jobs { name state lateRecordsDropped recordsInPerSecond } } }"""


def test_pipeline_health_shows_a_groups_lag_and_the_flink_jobs(
    settings, server, currents_topic, unique_name
):
    group = f"{unique_name}-group"
    committed_group(settings, currents_topic, group, produced=10, committed=4)
    end = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    end_offset = end.end_offsets([TopicPartition(currents_topic, 0)])[
        TopicPartition(currents_topic, 0)
    ]
    end.close()
    health = query(server, HEALTH)["pipelineHealth"]
    assert (health["kafkaError"], health["flinkError"]) == (None, None)
    mine = [c for c in health["consumers"] if c["group"] == group]
    assert mine == [{"group": group, "topic": currents_topic, "lag": str(end_offset - 4)}]
    assert end_offset - 4 == 6
    overview = json.loads(
        urllib.request.urlopen(f"{settings.flink_rest_url}/jobs/overview", timeout=10).read()
    )
    assert sorted(j["name"] for j in health["jobs"]) == sorted(j["name"] for j in overview["jobs"])
    for job in health["jobs"]:
        if job["state"] != "RUNNING":
            assert job["lateRecordsDropped"] is None

    async def two_updates() -> list[dict]:
        received: list[dict] = []
        stream = subscribe(server, "subscription { pipelineHealth { updatedAt consumers "
                                   "{ group topic lag } } }")  # fmt: skip
        async for data in stream:
            received.append(data["pipelineHealth"])
            if len(received) == 1:
                await asyncio.to_thread(committed_group, settings, currents_topic, group, 0, 9)
            if len(received) == 2:
                break
        await stream.aclose()
        return received

    before, after = asyncio.run(asyncio.wait_for(two_updates(), 60))
    lag_of = {c["group"]: c["lag"] for c in after["consumers"] if c["topic"] == currents_topic}
    assert [c["lag"] for c in before["consumers"] if c["group"] == group] == ["6"]
    assert lag_of[group] == "1"  # sent because it changed, well before the 30 s heartbeat
    assert after["updatedAt"] > before["updatedAt"]


def test_pipeline_health_says_when_kafka_and_flink_do_not_answer(stack, tmp_path):
    env = {"STREAMLINES_KAFKA_PORT": "1", "STREAMLINES_FLINK_REST_PORT": "1"}
    with graphql_server_process(env, log_path=tmp_path / "graphql.log") as url:
        health = query(url, HEALTH)["pipelineHealth"]
    assert health["consumers"] == health["jobs"] == []
    assert "Kafka at 127.0.0.1:1 did not answer" in health["kafkaError"]
    assert "`streamlines stack up kafka`" in health["kafkaError"]
    assert "Flink's REST API at http://127.0.0.1:1 did not answer" in health["flinkError"]


def test_the_dashboard_is_served_at_its_path(server):
    base = server.removesuffix("/graphql")
    built = Path(__file__).resolve().parents[3] / "dashboard" / "dist"
    if not (built / "index.html").is_file():
        pytest.skip("dashboard/dist is not built (make dashboard)")
    with urllib.request.urlopen(f"{base}/dashboard?symbol=SP500", timeout=10) as page:
        assert page.url.endswith("/dashboard/?symbol=SP500")  # redirected, query kept
        assert page.headers["Content-Type"].startswith("text/html")
        assert page.headers["Cache-Control"] == "no-cache"
        html = page.read().decode()
    assert html == (built / "index.html").read_text()
    script = next(p.name for p in (built / "assets").glob("*.js"))
    with urllib.request.urlopen(f"{base}/dashboard/assets/{script}", timeout=10) as asset:
        assert asset.headers["Content-Type"].startswith("text/javascript")
        assert "immutable" in asset.headers["Cache-Control"]
        assert asset.read() == (built / "assets" / script).read_bytes()


def test_without_a_build_the_dashboard_path_says_how_to_make_one(stack, tmp_path):
    env = {"STREAMLINES_DASHBOARD_DIR": str(tmp_path / "nothing")}
    with (
        graphql_server_process(env, log_path=tmp_path / "graphql.log") as url,
        pytest.raises(urllib.error.HTTPError) as refused,
    ):
        urllib.request.urlopen(url.replace("/graphql", "/dashboard/"), timeout=10)
    assert refused.value.code == 404
    assert "make dashboard" in refused.value.read().decode()


def test_a_long_range_of_minute_bars_is_one_downsampled_query(settings, market, server):
    rng = np.random.default_rng(7)
    start = 1_293_800_400_000_000_000  # 2010-12-31T13:00:00Z
    count = 200_000
    closes = (100 * np.exp(np.cumsum(rng.normal(0, 0.0005, count)))).round(4).tolist()
    lines = [
        f"bars,symbol=BENCH,timeframe=1Min open={c!r},high={c!r},low={c!r},close={c!r},"
        f"volume=1.0 {start + k * MINUTE}"
        for k, c in enumerate(closes)
    ]
    with InfluxWriter.from_settings(settings, market) as writer:
        writer.write(lines)
    document = """{ series(symbol: "BENCH", start: "2010-12-31", end: "2011-12-31",
      timeframe: MINUTE_1, maxPoints: 1000, downsample: MINMAX) {
      sourcePoints downsampled data { tNs close } } }"""
    series = query(server, document)["series"]
    assert (series["sourcePoints"], series["downsampled"]) == (count, True)
    picked = reference_minmax(closes, 1000)
    assert series["data"]["tNs"] == [str(start + i * MINUTE) for i in picked]
    assert series["data"]["close"] == [closes[i] for i in picked]
