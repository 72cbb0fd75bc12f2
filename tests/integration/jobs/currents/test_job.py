"""The currents job on the standalone cluster, every output record checked against independent
pandas computations (``tests/references/currents.py``, 1e-9 relative).

Indicators: the real GOOG and S&P 500 daily bars (``streamlines.datasets``), sent as gather
writes them: one symbol after the other (S&P 500 1999-2018 first, then GOOG 2004-2013, so the
history topic is years out of event-time order), GOOG's first 30 bars sent twice (a re-gather),
and GOOG's last 40 bars on the live topic instead, one of them on both. GOOG's history is sent as
if a 2:1 split had happened since: the adjusted prices are the real ones and the raw ones double,
so the job is right only if it takes the adjusted close.

Volatility ranking: intraday data is *generated* from real bars: ``connectors.replay`` makes
trades inside each real S&P 500 / NASDAQ daily bar (New York session), BTC/USD monthly bar and
EUR/USD hourly bar, and aggregates them to 1-minute bars; two days of them, the first day on the
history topic and the second on the live one (five minutes on both). One more symbol, FLAT, is
made up: a bar at 100 and then three at 101.37, so that later windows hold only equal prices
(their deviation must be exactly 0, not a rounding residue).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from kafka import KafkaConsumer

from connectors.replay.aggregate import Bars
from connectors.replay.timeframe import AlpacaTimeframe
from connectors.replay.universe import build_universe
from connectors.sinks.analytics import run_sink
from connectors.sinks.kafka import ensure_topics
from jobs.registry import JOBS
from streamlines.contracts.events import Bar, Event, HistoryBar
from streamlines.contracts.influx import MEASUREMENT_CURRENTS
from streamlines.contracts.metrics import CROSSOVER_PREFIX
from streamlines.contracts.time import NS_PER_DAY, NS_PER_MINUTE
from streamlines.datasets import load_bars
from tests.references.currents import assert_close, expected_indicators, volatility
from tests.support.flink import run_job, run_job_module, running_job
from tests.support.kafka import AnalyticsRecords, analytics_by_metric, produce

CURRENTS = JOBS["currents"]

MINUTE_SYMBOLS = ["SP500", "NASDAQ", "BTC/USD", "EUR/USD"]
MINUTE_START, MINUTE_SPLIT, MINUTE_END = "2018-01-16", "2018-01-17", "2018-01-18"


def bar_fields(symbol: str, t_ns: int, timeframe: str, row: Any, scale: float = 1.0) -> dict:
    return {
        "symbol": symbol,
        "t_ns": t_ns,
        "timeframe": timeframe,
        **{k: float(getattr(row, k)) * scale for k in ("open", "high", "low", "close")},
        "volume": float(row.volume),
    }


def history_bar(fields: dict, adjusted: dict) -> HistoryBar:
    adj = {f"adj_{k}": adjusted[k] for k in ("open", "high", "low", "close", "volume")}
    return HistoryBar(**fields, **adj, adj_factor=adjusted["close"] / fields["close"])


def run_on_cluster(settings, history: str, live: str, output: str) -> None:
    run_job(
        settings, CURRENTS.file, "--bootstrap", settings.kafka_bootstrap,
        "--history-topic", history, "--live-topic", live, "--output-topic", output, "--bounded",
        timeout=900,
    )  # fmt: skip


def read_records(read_topic: Callable, topic: str, wire: int, stored: int) -> AnalyticsRecords:
    """The output by stored metric; ``wire`` records on the topic, ``stored`` once expanded."""
    messages = read_topic(topic, wire + 1, idle_ms=5_000)
    assert len(messages) == wire
    by_metric = analytics_by_metric(messages)
    assert sum(map(len, by_metric.values())) == stored
    return by_metric


def expected_count(series: dict[tuple[str, str], pd.Series]) -> int:
    """The indicator records stored for these series: one per family and bar where the family
    has a value, and one per crossover."""
    return sum(
        len(frame)
        for (_, timeframe), close in series.items()
        for frame in expected_indicators(close, timeframe).values()
    )


def wire_count(series: dict[tuple[str, str], pd.Series]) -> int:
    """The records on the topic for these series: one per bar (every family in it) and one per
    crossover."""
    return sum(
        len(close)
        + sum(
            len(frame)
            for metric, frame in expected_indicators(close, timeframe).items()
            if metric.startswith(CROSSOVER_PREFIX)
        )
        for (_, timeframe), close in series.items()
    )


def check_indicators(got: AnalyticsRecords, series: dict[tuple[str, str], pd.Series]) -> int:
    """Every indicator record of these series (closes indexed by t_ns) equals pandas, and there
    is no other; returns how many were checked."""
    checked = 0
    for (symbol, timeframe), close in series.items():
        for metric, frame in expected_indicators(close, timeframe).items():
            records = {t: v for (s, t), v in got.get(metric, {}).items() if s == symbol}
            assert sorted(records) == list(frame.index), f"{metric} {symbol}"
            for t_ns, row in frame.iterrows():
                assert_close(records[t_ns], row.to_dict(), f"{metric} {symbol} {t_ns}")
            checked += len(frame)
    return checked


def daily_events() -> tuple[list[Event], list[Event], dict[tuple[str, str], pd.Series]]:
    """(history topic, live topic, the closes the job must see per series)."""
    history: list[Event] = []
    spx = load_bars("SP500")
    for ts, row in zip(spx.index, spx.itertuples(), strict=True):
        fields = bar_fields("SP500", int(ts.value), "1Day", row)
        history.append(history_bar(fields, fields))
    goog = load_bars("GOOG")
    live_from = len(goog) - 40
    goog_history = []
    for ts, row in zip(goog.index[:live_from], goog.iloc[:live_from].itertuples(), strict=True):
        real = bar_fields("GOOG", int(ts.value), "1Day", row)
        goog_history.append(history_bar(bar_fields("GOOG", int(ts.value), "1Day", row, 2.0), real))
    history += goog_history + goog_history[:30]
    live: list[Event] = [
        Bar(**bar_fields("GOOG", int(ts.value), "1Day", row))
        for ts, row in zip(
            goog.index[live_from - 1 :], goog.iloc[live_from - 1 :].itertuples(), strict=True
        )
    ]
    series = {
        ("SP500", "1Day"): pd.Series(spx.close.to_numpy(), index=spx.index.asi8),
        ("GOOG", "1Day"): pd.Series(goog.close.to_numpy(), index=goog.index.asi8),
    }
    return history, live, series


def test_indicators_on_real_daily_bars_match_pandas(stack, settings, unique_name, read_topic):
    history, live, series = daily_events()
    topics = [f"{unique_name}-{part}" for part in ("history", "live", "out")]
    ensure_topics(settings.kafka_bootstrap, topics)
    produce(settings.kafka_bootstrap, topics[0], history)
    produce(settings.kafka_bootstrap, topics[1], live)

    run_on_cluster(settings, *topics)

    got = read_records(read_topic, topics[2], wire_count(series), expected_count(series))
    assert check_indicators(got, series) > 35_000
    assert set(got) == set(expected_indicators(series["GOOG", "1Day"], "1Day"))


def minute_bars() -> pd.DataFrame:
    t0, t1 = (int(pd.Timestamp(day, tz="UTC").value) for day in (MINUTE_START, MINUTE_END))
    universe = build_universe(symbols=MINUTE_SYMBOLS)
    frames = []
    for symbol in MINUTE_SYMBOLS:
        feed = universe.get(symbol)
        assert feed is not None
        bars = Bars.concat(list(feed.iter_bars(AlpacaTimeframe.parse("1Min"), t0, t1 - 1)))
        frames.append(
            pd.DataFrame(
                {"symbol": symbol, "t_ns": bars.t, "open": bars.open, "high": bars.high,
                 "low": bars.low, "close": bars.close, "volume": bars.volume}
            )
        )  # fmt: skip
    flat_t = t0 + np.array([600, 601, 602, 603]) * NS_PER_MINUTE
    flat = [100.0, 101.37, 101.37, 101.37]
    frames.append(
        pd.DataFrame({"symbol": "FLAT", "t_ns": flat_t, "open": flat, "high": flat, "low": flat,
                      "close": flat, "volume": 1.0})
    )  # fmt: skip
    return pd.concat(frames, ignore_index=True).sort_values(["t_ns", "symbol"], ignore_index=True)


def flat_start(bars: pd.DataFrame) -> int:
    return int(bars.t_ns[bars.symbol == "FLAT"].min())


def minute_events(bars: pd.DataFrame) -> tuple[list[Event], list[Event]]:
    split = int(pd.Timestamp(MINUTE_SPLIT, tz="UTC").value)
    history: list[Event] = []
    live: list[Event] = []
    for row in bars.itertuples():
        fields = bar_fields(row.symbol, int(row.t_ns), "1Min", row)
        if row.t_ns < split:
            history.append(history_bar(fields, fields))
        if row.t_ns >= split - 5 * NS_PER_MINUTE:
            live.append(Bar(**fields))
    return history, live


def test_volatility_ranking_every_minute_matches_pandas(
    stack, settings, unique_name, read_topic, influx, bucket
):
    """Intraday data generated from real bars (see the module docstring): every volatility
    round equals the reference over the same 24 hours, the ranking as of one minute equals the
    reference ranking (also from InfluxDB, one query), and the minute series' indicators equal
    pandas too."""
    bars = minute_bars()
    history, live = minute_events(bars)
    # Written by the sink as measurement currents, as analytics.currents is.
    topics = [f"{unique_name}-history", f"{unique_name}-live", f"{unique_name}.currents"]
    ensure_topics(settings.kafka_bootstrap, topics)
    produce(settings.kafka_bootstrap, topics[0], history)
    produce(settings.kafka_bootstrap, topics[1], live)
    by_symbol = {s: g.reset_index(drop=True) for s, g in bars.groupby("symbol")}
    expected = {s: volatility(g) for s, g in by_symbol.items()}
    series = {
        (s, "1Min"): pd.Series(g.close.to_numpy(), index=g.t_ns) for s, g in by_symbol.items()
    }

    run_on_cluster(settings, *topics)

    vol_count = sum(map(len, expected.values()))
    stored = vol_count + expected_count(series)
    got = read_records(read_topic, topics[2], vol_count + wire_count(series), stored)
    check_indicators(got, series)
    rounds = got.pop("volatility_24h")
    assert len(rounds) == vol_count
    for symbol, frame in expected.items():
        for t_ns, row in frame.iterrows():
            assert_close(rounds[symbol, t_ns], row.to_dict(), f"volatility {symbol} {t_ns}")
    only_equal_prices = flat_start(bars) + NS_PER_DAY + NS_PER_MINUTE  # the bar at 100 has left
    assert rounds["FLAT", only_equal_prices]["std"] == 0.0

    # The ranking as of one minute is the records at that minute, sorted: one per symbol with
    # bars in the 24 hours before it (all but FLAT), all with that t_ns. The same from InfluxDB
    # (written by the unchanged analytics sink) with one query.
    as_of = int(pd.Timestamp(f"{MINUTE_SPLIT} 20:00", tz="UTC").value)
    in_window = {
        s for s, g in by_symbol.items() if ((g.t_ns >= as_of - NS_PER_DAY) & (g.t_ns < as_of)).any()
    }
    assert in_window == set(MINUTE_SYMBOLS)
    ranking = sorted(
        ((values["rel_std"], symbol) for (symbol, t), values in rounds.items() if t == as_of),
        reverse=True,
    )
    reference = sorted(
        ((expected[symbol].loc[as_of, "rel_std"], symbol) for symbol in in_window), reverse=True
    )
    assert [s for _, s in ranking] == [s for _, s in reference]
    for (got_value, _), (want, _) in zip(ranking, reference, strict=True):
        assert math.isclose(got_value, want, rel_tol=1e-9)

    counters = run_sink(
        settings, topics[2], bucket, f"{unique_name}-sink", exit_when_idle=5.0,
        measurement=MEASUREMENT_CURRENTS,
    )  # fmt: skip
    assert counters.dead_lettered == 0
    assert counters.read == vol_count + wire_count(series)
    assert counters.written == stored  # the per-bar records as their families' points
    start, stop = (
        pd.Timestamp(t, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ") for t in (as_of, as_of + 10**9)
    )
    flux = f"""from(bucket: "{bucket}")
  |> range(start: {start}, stop: {stop})
  |> filter(fn: (r) => r._measurement == "currents" and r.metric == "volatility_24h"
                       and r._field == "rel_std")
  |> group()
  |> sort(columns: ["_value"], desc: true)"""
    rows = [r for table in influx.query_api().query(flux) for r in table.records]
    assert [r.values["symbol"] for r in rows] == [s for _, s in reference]


def test_local_mini_cluster_run_without_a_history_topic(stack, settings, unique_name, read_topic):
    """``python -m jobs.currents --local --bounded``: the same job on a mini-cluster, here with
    a history topic that does not exist (left out, with a warning) and the first 300 real GOOG
    daily bars on the live topic."""
    goog = load_bars("GOOG").iloc[:300]
    live_topic, output_topic = f"{unique_name}-live", f"{unique_name}-out"
    ensure_topics(settings.kafka_bootstrap, [live_topic, output_topic])
    produce(
        settings.kafka_bootstrap,
        live_topic,
        [
            Bar(**bar_fields("GOOG", int(ts.value), "1Day", row))
            for ts, row in zip(goog.index, goog.itertuples(), strict=True)
        ],
    )
    result = run_job_module(
        CURRENTS, "--local", "--bounded",
        "--bootstrap", settings.kafka_bootstrap, "--history-topic", f"{unique_name}-none",
        "--live-topic", live_topic, "--output-topic", output_topic,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"history topic {unique_name}-none does not exist" in result.stderr
    series = {("GOOG", "1Day"): pd.Series(goog.close.to_numpy(), index=goog.index.asi8)}
    got = read_records(read_topic, output_topic, wire_count(series), expected_count(series))
    check_indicators(got, series)


def test_streaming_run_goes_on_from_history_to_live_bars(stack, settings, unique_name):
    """Unbounded run (``flink run -d``): the history topic (the first 250 real GOOG daily bars)
    is read to its end, then live bars sent while the job runs (the next 50) continue the same
    series. Every bar the watermark has passed (all but the last live one) must come out while
    the job is running, equal to pandas on the whole series."""
    goog = load_bars("GOOG").iloc[:300]
    events = [
        (int(ts.value), bar_fields("GOOG", int(ts.value), "1Day", row))
        for ts, row in zip(goog.index, goog.itertuples(), strict=True)
    ]
    topics = [f"{unique_name}-history", f"{unique_name}-live", f"{unique_name}-out"]
    ensure_topics(settings.kafka_bootstrap, topics)
    produce(settings.kafka_bootstrap, topics[0], [history_bar(f, f) for _, f in events[:250]])
    with running_job(
        settings, CURRENTS.file, "--bootstrap", settings.kafka_bootstrap,
        "--history-topic", topics[0], "--live-topic", topics[1], "--output-topic", topics[2],
        "--group-id", unique_name,
    ):  # fmt: skip
        time.sleep(5)
        produce(settings.kafka_bootstrap, topics[1], [Bar(**f) for _, f in events[250:]])
        series = {
            ("GOOG", "1Day"): pd.Series(goog.close.to_numpy()[:-1], index=goog.index.asi8[:-1])
        }
        expected = wire_count(series)
        consumer = KafkaConsumer(
            topics[2],
            bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=180_000,
        )
        records = []
        try:
            for record in consumer:
                records.append(record)
                if len(records) >= expected:
                    break
        finally:
            consumer.close()
        assert check_indicators(analytics_by_metric(records), series) == expected_count(series)
