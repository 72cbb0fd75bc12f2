"""`streamlines ingest --sink kinesis` into the real Kinesis emulator: trades round-trip with
their symbol as partition key, prices and event times intact."""

from __future__ import annotations

import time

from connectors.ingest import Ingest, Topics
from connectors.sinks.kinesis import KinesisSink, ensure_streams
from streamlines.contracts.events import Trade
from streamlines.contracts.topics import dead_letter_topic
from streamlines.stack.services.kinesis import kinesis_client
from tests.support.ingest import run_until


def read_stream(client, name: str, count: int, timeout: float = 20.0) -> list[dict]:
    shard = client.describe_stream(StreamName=name)["StreamDescription"]["Shards"][0]
    iterator = client.get_shard_iterator(
        StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        batch = client.get_records(ShardIterator=iterator, Limit=1000)
        records += batch["Records"]
        iterator = batch["NextShardIterator"]
    return records


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
