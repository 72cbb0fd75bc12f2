"""The ripples job on the standalone cluster, checked against an independent pandas computation.

Test data: intraday trades and quotes generated from real bars (``connectors.replay.synth`` on
consecutive daily GOOG / SP500 / NASDAQ bars, each bar squeezed into one minute of a test day);
seeded, so every run sends the same events. Flink's event time has millisecond precision: every
25th trade is moved to 1 ns after the one before (same-millisecond trades, sent in time order,
which the job takes in arrival order), and quotes that share a millisecond with another event of
their symbol are dropped, as are trades sharing one with a quote (their as-of order inside Flink
would be arrival order, which this test does not pin down).
One GOOG trade is sent late (after later trades, within the 2 s watermark bound), and it is the
first trade of its 1-second bar, so the bar's open is only right if the job orders by event time.
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager

import numpy as np
import pandas as pd
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.replay.synth import BarSpec, bar_rng, generate_quotes, generate_trades
from connectors.sinks.kafka import ensure_topics
from jobs.registry import JOBS
from streamlines.contracts.events import Quote, Trade
from streamlines.contracts.time import NS_PER_MINUTE, NS_PER_SECOND
from streamlines.datasets import load_bars
from streamlines.stack.services.flink import FlinkService
from tests.references.ripples import assert_records_match, reference_bars, reference_records
from tests.support.flink import run_job, run_job_module, running_job
from tests.support.kafka import AnalyticsRecords, analytics_by_metric, produce

RIPPLES = JOBS["ripples"]
SYMBOLS = {"GOOG": "GOOG", "SPX": "SP500", "NDX": "NASDAQ"}  # symbol -> real data set
MINUTES = 7  # > 5 so the rolling window fills and slides
TRADES_PER_MINUTE = 110
DAY_NS = int(pd.Timestamp("2024-03-04 14:30", tz="UTC").value)


def generated_events() -> tuple[pd.DataFrame, pd.DataFrame]:
    trades, quotes = [], []
    for symbol, dataset in SYMBOLS.items():
        bars = load_bars(dataset).iloc[100 : 100 + MINUTES]
        for i, row in enumerate(bars.itertuples()):
            start = DAY_NS + i * NS_PER_MINUTE
            bar = BarSpec(
                row.open, row.high, row.low, row.close, row.volume, start, start + NS_PER_MINUTE
            )
            rng = bar_rng(7, symbol, i)
            tr = generate_trades(
                bar, TRADES_PER_MINUTE, rng, tick=0.01, integral_volume=True, first_id=i * 1000
            )
            qu = generate_quotes(tr, bar, rng, tick=0.01, integral_volume=True)
            trades.append(
                pd.DataFrame(
                    {"symbol": symbol, "t_ns": tr.t, "price": tr.price, "size": tr.size,
                     "trade_id": tr.id}
                )
            )  # fmt: skip
            quotes.append(
                pd.DataFrame(
                    {"symbol": symbol, "t_ns": qu.t, "bid_price": qu.bid_price,
                     "bid_size": qu.bid_size, "ask_price": qu.ask_price, "ask_size": qu.ask_size}
                )
            )  # fmt: skip
    t, q = pd.concat(trades, ignore_index=True), pd.concat(quotes, ignore_index=True)
    # Every 25th trade of a symbol 1 ns after the one before: same-millisecond trades, which the
    # job must take in arrival (here: time) order.
    t = t.sort_values(["symbol", "t_ns"], ignore_index=True)
    tie = (t.groupby("symbol").cumcount() % 25 == 24).to_numpy()
    t_ns = t.t_ns.to_numpy().copy()
    t_ns[tie] = t_ns[np.flatnonzero(tie) - 1] + 1
    t["t_ns"] = t_ns
    # Drop quotes that share a millisecond with another event of their symbol, and trades that
    # share one with a quote: which of them is "first" is arrival order inside Flink.
    q_ms = set(zip(q.symbol, q.t_ns // 1_000_000, strict=True))
    t_ms = list(zip(t.symbol, t.t_ns // 1_000_000, strict=True))
    all_ms = pd.Series(t_ms + list(q_ms)).value_counts()
    quote_counts = pd.Series(list(zip(q.symbol, q.t_ns // 1_000_000, strict=True))).value_counts()
    t = t[[key not in q_ms for key in t_ms]]
    q = q[
        [
            all_ms.get(key, 0) == 1 and quote_counts[key] == 1
            for key in zip(q.symbol, q.t_ns // 1_000_000, strict=True)
        ]
    ]
    return (
        t.sort_values(["symbol", "t_ns"], ignore_index=True),
        q.sort_values(["symbol", "t_ns"], ignore_index=True),
    )


def late_trade_order(trades: pd.DataFrame) -> tuple[list[int], int]:
    """Sending order (row indices): time order, except one GOOG trade that opens its 1-second
    bar (at another price than the next two) is sent after the two GOOG trades that follow
    it, all well within the 2 s bound."""
    goog = trades.index[trades.symbol == "GOOG"]
    second = trades.t_ns // 1_000_000_000
    late = next(
        int(i)
        for i in goog[len(goog) // 2 :]
        if second[i] != second[i - 1]
        and second[i] == second[i + 3]
        and trades.t_ns[i] // 1_000_000 != trades.t_ns[i + 1] // 1_000_000
        and trades.price[i] not in (trades.price[i + 1], trades.price[i + 2])
    )
    order = [int(i) for i in trades.sort_values("t_ns").index]
    order.remove(late)
    order.insert(order.index(late + 2) + 1, late)  # after the next two GOOG trades
    assert trades.t_ns[late + 2] - trades.t_ns[late] < 1_000_000_000
    return order, late


def produce_events(
    bootstrap: str, prefix: str, trades: pd.DataFrame, quotes: pd.DataFrame, order: list[int]
) -> tuple[str, str]:
    trades_topic, quotes_topic = f"{prefix}-trades", f"{prefix}-quotes"
    trade_events = [
        Trade(
            symbol=r.symbol,
            t_ns=int(r.t_ns),
            price=float(r.price),
            size=float(r.size),
            trade_id=int(r.trade_id),
            conditions=("@",),
        )
        for r in trades.loc[order].itertuples()
    ]
    quote_events = [
        Quote(
            symbol=r.symbol,
            t_ns=int(r.t_ns),
            bid_price=float(r.bid_price),
            bid_size=float(r.bid_size),
            ask_price=float(r.ask_price),
            ask_size=float(r.ask_size),
        )
        for r in quotes.sort_values("t_ns").itertuples()
    ]
    produce(bootstrap, trades_topic, trade_events)
    produce(bootstrap, quotes_topic, quote_events)
    return trades_topic, quotes_topic  # fmt: skip


def check_output(
    read_topic, output_topic: str, trades: pd.DataFrame, quotes: pd.DataFrame
) -> AnalyticsRecords:
    """Every record the job wrote equals the pandas reference; returns them by metric and key."""
    expected = reference_records(trades, quotes)
    expected_count = sum(len(frame) for frame in expected.values())
    records = read_topic(output_topic, expected_count + 1, idle_ms=5_000)
    assert len(records) == expected_count
    by_metric = analytics_by_metric(records)
    assert_records_match(by_metric, expected)
    return by_metric


def test_ripples_matches_pandas(stack, settings, unique_name, read_topic):
    trades, quotes = generated_events()
    order, late = late_trade_order(trades)
    trades_topic, quotes_topic = produce_events(
        settings.kafka_bootstrap, unique_name, trades, quotes, order
    )
    output_topic = f"{unique_name}-ripples"

    run_job(
        settings, RIPPLES.file,
        "--bootstrap", settings.kafka_bootstrap,
        "--trades-topic", trades_topic, "--quotes-topic", quotes_topic,
        "--output-topic", output_topic, "--bounded",
    )  # fmt: skip

    by_metric = check_output(read_topic, output_topic, trades, quotes)
    late_row = trades.loc[late]
    late_bar = by_metric["bar_1s"][("GOOG", (late_row.t_ns // 10**9 + 1) * 10**9)]
    assert late_bar["open"] == late_row.price


def test_local_mini_cluster_run_matches_pandas(stack, settings, unique_name, read_topic):
    """``python -m jobs.ripples --local --bounded``: the same job on a mini-cluster (here on
    the first 90 seconds of the GOOG test events, to keep it short)."""
    trades, quotes = generated_events()
    end = DAY_NS + 90 * 1_000_000_000
    trades = trades[(trades.symbol == "GOOG") & (trades.t_ns < end)]
    quotes = quotes[(quotes.symbol == "GOOG") & (quotes.t_ns < end)]
    trades_topic, quotes_topic = produce_events(
        settings.kafka_bootstrap, unique_name, trades, quotes, list(trades.index)
    )
    output_topic = f"{unique_name}-ripples"
    result = run_job_module(
        RIPPLES, "--local", "--bounded",
        "--bootstrap", settings.kafka_bootstrap,
        "--trades-topic", trades_topic, "--quotes-topic", quotes_topic,
        "--output-topic", output_topic,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    check_output(read_topic, output_topic, trades, quotes)


def test_a_bounded_run_on_a_missing_topic_stops_at_once_and_names_it(stack, settings, unique_name):
    """A source bounded at the latest offsets never finishes on a topic that does not exist, so
    a ``--bounded`` run checks its input topics first."""
    trades_topic, missing = f"{unique_name}-trades", f"{unique_name}-none"
    ensure_topics(settings.kafka_bootstrap, [trades_topic])
    result = run_job_module(
        RIPPLES, "--bounded",
        "--bootstrap", settings.kafka_bootstrap,
        "--trades-topic", trades_topic, "--quotes-topic", missing,
        "--output-topic", f"{unique_name}-ripples",
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"error: quotes topic {missing} does not exist" in result.stderr
    assert "fix: check --quotes-topic, or start ingest" in result.stderr


def live_job(
    settings, group_id: str, trades_topic: str, quotes_topic: str, output_topic: str
) -> AbstractContextManager[str]:
    """The job on the cluster, unbounded, idle timeout 1 s (see ``running_job``)."""
    return running_job(
        settings, RIPPLES.file,
        "--bootstrap", settings.kafka_bootstrap,
        "--trades-topic", trades_topic, "--quotes-topic", quotes_topic,
        "--output-topic", output_topic, "--group-id", group_id, "--idle-timeout", "1",
    )  # fmt: skip


def test_an_idle_partition_does_not_hold_the_bars_back(stack, settings, unique_name):
    """Unbounded run, trades topic with two partitions of which one never gets a record: the
    idle timeout lets the watermark advance on the other, so 1-second bars close and come out
    while the job is still running (without it they would wait for the empty partition).

    Partition 0 keeps getting trades (one every 150 ms, after the job runs) while partition 1 goes
    idle, as in a live feed. Trades sent all at once before the job would make both partitions go
    idle in the same watermark round, and Flink then drops the last watermark (an all-idle source
    emits none, see CombinedWatermarkStatus), so no bar would ever close."""
    trades_topic, quotes_topic = f"{unique_name}-trades", f"{unique_name}-quotes"
    output_topic = f"{unique_name}-ripples"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics(
        [
            NewTopic(trades_topic, num_partitions=2, replication_factor=1),
            NewTopic(quotes_topic, num_partitions=1, replication_factor=1),
        ]
    )
    admin.close()
    trades, _ = generated_events()
    goog = trades[trades.symbol == "GOOG"].iloc[:60]  # ~30 s of trades generated from real bars

    with live_job(settings, unique_name, trades_topic, quotes_topic, output_topic):
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        for r in goog.itertuples():
            trade = Trade(
                symbol=r.symbol, t_ns=int(r.t_ns), price=float(r.price), size=float(r.size)
            )
            producer.send(trades_topic, key=trade.key(), value=trade.to_wire(), partition=0)
            producer.flush(timeout=60)
            time.sleep(0.15)
        producer.close()
        expected = reference_bars(goog, 1)
        watermark_ms = int(goog.t_ns.max()) // 1_000_000 - 2_000
        closed = expected[expected.t_ns // 1_000_000 <= watermark_ms]
        bars = []
        consumer = KafkaConsumer(
            output_topic,
            bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=90_000,
        )
        try:
            for record in consumer:
                value = json.loads(record.value)
                if value["metric"] == "bar_1s":
                    bars.append(value)
                if len(bars) >= len(closed):
                    break
        finally:
            consumer.close()
        assert len(bars) == len(closed)
        first = closed.iloc[0]
        assert bars[0]["t_ns"] == first.t_ns
        assert bars[0]["values"]["open"] == first.open


def test_a_trade_behind_the_watermark_is_dropped_and_counted(stack, settings, unique_name):
    """A trade that arrives after the watermark has passed its time (here ~15 s of event time
    behind, against a 2 s bound) is left out of every result, as Flink SQL does, and the job
    counts it: ``FlinkService.late_records_dropped`` (what `streamlines demo` shows) is 1."""
    trades_topic, quotes_topic = f"{unique_name}-trades", f"{unique_name}-quotes"
    output_topic = f"{unique_name}-ripples"
    ensure_topics(settings.kafka_bootstrap, [trades_topic, quotes_topic])
    trades, _ = generated_events()
    goog = [
        Trade(symbol=r.symbol, t_ns=int(r.t_ns), price=float(r.price), size=float(r.size))
        for r in trades[trades.symbol == "GOOG"].iloc[:50].itertuples()
    ]
    late = Trade(symbol="GOOG", t_ns=goog[0].t_ns + 1_000_000, price=goog[0].price * 2, size=1.0)
    assert goog[-1].t_ns - late.t_ns > 10 * NS_PER_SECOND

    service = FlinkService(settings)
    with live_job(settings, unique_name, trades_topic, quotes_topic, output_topic) as job_id:
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        for trade in [*goog[:40], late, *goog[40:]]:
            producer.send(trades_topic, key=trade.key(), value=trade.to_wire())
            producer.flush(timeout=60)
            time.sleep(0.15)
        producer.close()
        deadline = time.monotonic() + 60  # the REST API refreshes metrics every 10 s
        while (dropped := service.late_records_dropped(job_id)) < 1:
            assert time.monotonic() < deadline, "the late trade was not counted"
            time.sleep(2)
        assert dropped == 1
        consumer = KafkaConsumer(
            output_topic,
            bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=5_000,
        )
        records = [json.loads(record.value) for record in consumer]
        consumer.close()
    per_trade = [r for r in records if r["metric"] in ("rolling_5m", "spread")]
    assert {r["t_ns"] for r in per_trade} <= {t.t_ns for t in goog}
    assert len(per_trade) > 0
