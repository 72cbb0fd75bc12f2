"""The Kinesis sink into the real Kinesis emulator: thousands of trades of several symbols,
written in 500-record batches and by linger, read back with GetRecords: every record once, each
symbol's in the order sent."""

from __future__ import annotations

import random

import pytest

from connectors.sinks.kinesis import KinesisSink, ensure_streams
from streamlines.contracts.events import Trade
from streamlines.stack.services.kinesis import kinesis_client
from tests.support.kinesis import read_stream

SYMBOLS = ["GOOG", "SP500", "NASDAQ", "BTC/USD", "AAPL", "MSFT", "TSLA", "SPY"]


@pytest.fixture
def stream(stack, settings, unique_name):
    client = kinesis_client(settings.kinesis_endpoint, settings.aws_region)
    ensure_streams(client, [unique_name], settings.kinesis_endpoint)
    yield client, unique_name
    client.delete_stream(StreamName=unique_name)


def test_each_symbols_records_arrive_once_in_the_order_sent(stream):
    client, name = stream
    rng = random.Random(17)
    symbols = rng.choices(SYMBOLS, weights=[6, 5, 4, 3, 2, 2, 1, 1], k=2_600)
    trades = [
        Trade(symbol=s, t_ns=1_700_000_000_000_000_000 + n, price=100 + rng.random(), size=n + 1)
        for n, s in enumerate(symbols)
    ]
    sink = KinesisSink(client, linger=0.2)
    try:
        for trade in trades:
            sink.send(name, trade)
    finally:
        sink.close()
    assert (sink.counters.sent, sink.counters.acked, sink.counters.failed) == (2_600, 2_600, 0)

    records = read_stream(client, name, len(trades))
    assert len(records) == len(trades)
    received: dict[str, list[Trade]] = {}
    for record in records:
        trade = Trade.from_wire(record["Data"])
        assert record["PartitionKey"] == trade.symbol
        received.setdefault(trade.symbol, []).append(trade)
    sent: dict[str, list[Trade]] = {}
    for trade in trades:
        sent.setdefault(trade.symbol, []).append(trade)
    assert received == sent
