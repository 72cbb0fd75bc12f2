"""Ingest (``connectors.ingest.service``) into the real Kafka: the replay server's trades arrive
keyed by symbol, with their prices and event times, in order; malformed frames land in the DLQ
with a reason while good messages keep flowing; a dropped connection is reconnected and logged.
Into the real Kinesis emulator (``--sink kinesis``): trades round-trip with their symbol as
partition key, prices and event times intact."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from connectors.ingest.router import Topics
from connectors.ingest.service import Ingest
from connectors.sinks.kafka import KafkaSink
from connectors.sinks.kinesis import KinesisSink, ensure_streams
from streamlines.contracts.events import Bar, Quote, Trade
from streamlines.contracts.topics import dead_letter_topic
from streamlines.stack.services.kinesis import kinesis_client
from tests.support.ingest import run_until
from tests.support.kinesis import read_stream
from tests.support.replay import REPLAY_START


@pytest.fixture
def topics(unique_name: str) -> Topics:
    return Topics(f"{unique_name}-trades", f"{unique_name}-quotes", f"{unique_name}-bars")


@pytest.fixture
def sink(stack, settings):
    sink = KafkaSink(settings.kafka_bootstrap, max_in_flight=100)
    yield sink
    sink.close()


def expected_trades(replay, symbol: str, count: int) -> list[tuple[int, float]]:
    """The symbol's first trades, asked of the server's REST API: (event time ns, price)."""
    start = f"{REPLAY_START}T00:00:00Z"
    body = replay.call("GET", "/v2/stocks/trades", symbols=symbol, start=start, limit=count)
    return [(pd.Timestamp(t["t"]).value, t["p"]) for t in body["trades"][symbol]]


def test_trades_quotes_and_bars_arrive_keyed_in_order_with_event_time(
    replay, ends, sink, topics, read_topic
):
    run = Ingest(ends, sink, topics, ["GOOG", "SP500"], [])
    run_until(run, lambda r: r.counts["trade"] >= 300 and r.counts["bar"] >= 4)

    records = read_topic(topics.trades, run.router.counts["trade"])
    assert len(records) == run.router.counts["trade"]
    by_symbol: dict[str, list[Trade]] = {}
    for record in records:
        trade = Trade.from_wire(record.value)
        assert record.key == trade.symbol.encode()
        by_symbol.setdefault(trade.symbol, []).append(trade)
    assert set(by_symbol) == {"GOOG", "SP500"}
    for symbol, trades in by_symbol.items():
        times = [t.t_ns for t in trades]
        assert times == sorted(times), f"{symbol} trades out of order"
        expected = expected_trades(replay, symbol, len(trades))
        assert [(t.t_ns, t.price) for t in trades] == expected

    quotes = [Quote.from_wire(r.value) for r in read_topic(topics.quotes, 10)]
    assert len(quotes) == 10
    assert all(q.bid_price <= q.ask_price for q in quotes)
    bars = [Bar.from_wire(r.value) for r in read_topic(topics.bars, 2)]
    assert all(b.t_ns % 60_000_000_000 == 0 and b.low <= b.high for b in bars)
    assert sink.counters.failed == 0


def test_malformed_frames_go_to_the_dlq_and_good_messages_keep_flowing(
    replay, ends, sink, topics, read_topic
):
    replay.call("POST", "/control/faults", {"malformed_every": 7})
    run = Ingest(ends, sink, topics, ["GOOG"], [])
    run_until(run, lambda r: r.counts["rejected"] >= 3 and r.counts["trade"] >= 100)

    dead = read_topic(dead_letter_topic(topics.trades), run.router.counts["rejected"])
    assert len(dead) == run.router.counts["rejected"]
    for record in dead:
        body = json.loads(record.value)
        assert "not valid msgpack" in body["reason"]
        assert body["raw"].startswith("\\xc1")
        assert body["source"] == "replay"
        assert pd.Timestamp(body["rejected_at"]).tzinfo is not None

    trades = [Trade.from_wire(r.value) for r in read_topic(topics.trades, 100)]
    assert len(trades) == 100
    times = [t.t_ns for t in trades]
    assert times == sorted(times)
    # Malformed frames are extra frames: the good ones are all there, none lost.
    assert [(t.t_ns, t.price) for t in trades] == expected_trades(replay, "GOOG", 100)


def test_a_dropped_connection_is_reconnected_and_the_gap_logged(
    replay, ends, sink, topics, read_topic, caplog
):
    replay.call("POST", "/control/faults", {"drop_after_messages": 150, "drop_connections": 1})
    run = Ingest(ends, sink, topics, ["GOOG"], [])
    stream = run.streams[0]
    with caplog.at_level(logging.WARNING, logger="connectors.alpaca.stream"):
        run_until(run, lambda r: stream.connections >= 2 and r.counts["trade"] >= 150)

    messages = [r.getMessage() for r in caplog.records]
    assert any("connection to" in m and "lost" in m for m in messages), messages
    assert any("reconnected to" in m and "gap of" in m and "2012-01-0" in m for m in messages), (
        messages
    )
    trades = [Trade.from_wire(r.value) for r in read_topic(topics.trades, 150)]
    times = [t.t_ns for t in trades]
    assert times == sorted(times)
    assert len(set(times)) == len(times), "the replayed trades repeat across the reconnect"


def test_trades_round_trip_through_kinesis(replay, ends, stack, settings, unique_name):
    client = kinesis_client(settings.kinesis_endpoint, settings.aws_region)
    topics = Topics(f"{unique_name}-tr", f"{unique_name}-qu", f"{unique_name}-ba")
    names = topics.all() + [dead_letter_topic(t) for t in topics.all()]
    ensure_streams(client, names, settings.kinesis_endpoint)
    try:
        sink = KinesisSink(client, batch_size=50)
        run = Ingest(ends, sink, topics, ["GOOG"], [])
        run_until(run, lambda r: r.counts["trade"] >= 120)
        sink.close()

        count = run.router.counts["trade"]
        records = read_stream(client, topics.trades, count)
        assert len(records) == count
        trades = [Trade.from_wire(r["Data"]) for r in records]
        assert {r["PartitionKey"] for r in records} == {"GOOG"}
        times = [t.t_ns for t in trades]
        assert times == sorted(times)
        body = replay.call("GET", "/v2/stocks/trades", symbols="GOOG",
                           start="2012-01-03T00:00:00Z", limit=count)  # fmt: skip
        assert [t.price for t in trades] == [t["p"] for t in body["trades"]["GOOG"]]
    finally:
        for name in names:
            client.delete_stream(StreamName=name)
