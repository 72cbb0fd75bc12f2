"""The Kinesis sink's batching and retry of rejected records, with stand-in clients that keep
what they accept in acceptance order (as a shard does) and reject chosen records."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from connectors.sinks.kinesis import MAX_BATCH, KinesisDeliveryError, KinesisSink, rounds
from streamlines.contracts.events import Trade


class FlakyKinesis:
    """Rejects the records whose price is in ``reject`` the first ``times`` times it sees them."""

    def __init__(self, reject: frozenset[float] | set[float] = frozenset(), times: int = 1) -> None:
        self.reject = reject
        self.times = times
        self.seen: dict[float, int] = {}
        self.stored: dict[str, list[dict[str, Any]]] = {}
        self.calls = 0

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        results = []
        for record in Records:
            price = json.loads(record["Data"]).get("price")
            self.seen[price] = self.seen.get(price, 0) + 1
            if price in self.reject and self.seen[price] <= self.times:
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
            else:
                self.stored.setdefault(StreamName, []).append(record)
                results.append({"SequenceNumber": "1", "ShardId": "s"})
        failed = sum("ErrorCode" in r for r in results)
        return {"FailedRecordCount": failed, "Records": results}


def trade(price: float, symbol: str = "GOOG") -> Trade:
    return Trade(symbol=symbol, t_ns=1_000, price=price, size=1)


def test_batches_of_batch_size_then_flush_sends_the_rest():
    client = FlakyKinesis()
    sink = KinesisSink(client, batch_size=3, linger=None)
    for price in range(1, 8):
        sink.send("s", trade(price))
    assert len(client.stored["s"]) == 6  # two full batches; the seventh record waits
    sink.flush()
    assert [json.loads(r["Data"])["price"] for r in client.stored["s"]] == list(range(1, 8))
    assert {r["PartitionKey"] for r in client.stored["s"]} == {"GOOG"}
    assert (sink.counters.sent, sink.counters.acked) == (7, 7)


def test_rejected_records_are_retried():
    client = FlakyKinesis(reject={2.0}, times=2)
    sink = KinesisSink(client, batch_size=3, linger=None)
    for price in (1, 2, 3):
        sink.send("s", trade(price))
    assert [json.loads(r["Data"])["price"] for r in client.stored["s"]] == [1, 2, 3]
    assert client.seen == {1.0: 1, 2.0: 3, 3.0: 1}
    assert (sink.counters.acked, sink.counters.failed) == (3, 0)


def test_gives_up_after_max_attempts():
    client = FlakyKinesis(reject={1.0}, times=99)
    sink = KinesisSink(client, batch_size=1, max_attempts=2, linger=None)
    with pytest.raises(KinesisDeliveryError):
        sink.send("s", trade(1))
    assert sink.counters.failed == 1


def test_dead_letter_goes_to_the_dlq_stream():
    client = FlakyKinesis()
    sink = KinesisSink(client, batch_size=1)
    sink.dead_letter("s", "bad", b"\xc1", "replay")
    assert json.loads(client.stored["s.dlq"][0]["Data"])["reason"] == "bad"


def test_a_quiet_stream_is_written_after_linger_not_when_the_batch_fills():
    client = FlakyKinesis()
    sink = KinesisSink(client, batch_size=500, linger=0.2)
    try:
        sink.send("s", trade(1, "GOOG"))
        sink.send("s", trade(2, "SP500"))
        assert client.calls == 0  # far from a full batch
        deadline = time.monotonic() + 5
        while not client.stored.get("s") and time.monotonic() < deadline:
            time.sleep(0.01)
        waited = 5 - (deadline - time.monotonic())
        assert [json.loads(r["Data"])["price"] for r in client.stored["s"]] == [1, 2]
        assert client.calls == 1
        assert 0.15 <= waited < 2
    finally:
        sink.close()


def test_without_linger_a_partial_batch_waits_for_flush():
    client = FlakyKinesis()
    sink = KinesisSink(client, batch_size=500, linger=None)
    sink.send("s", trade(1))
    time.sleep(0.3)
    assert client.calls == 0
    sink.close()
    assert client.calls == 1


class Shard:
    """PutRecords as Kinesis handles it: each record of a request accepted or rejected on its
    own; ``stored`` is what the stream holds, in acceptance order. ``reject(record, n)`` decides,
    ``n`` being how often that record has been offered."""

    def __init__(self, reject: Callable[[dict[str, Any], int], bool]) -> None:
        self.reject = reject
        self.offered: dict[bytes, int] = {}
        self.stored: list[dict[str, Any]] = []
        self.requests: list[list[dict[str, Any]]] = []
        self.rejections = 0

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.requests.append(Records)
        results: list[dict[str, str]] = []
        for record in Records:
            n = self.offered[record["Data"]] = self.offered.get(record["Data"], 0) + 1
            if self.reject(record, n):
                self.rejections += 1
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
            else:
                self.stored.append(record)
                results.append({"SequenceNumber": str(len(self.stored)), "ShardId": "s-0"})
        failed = sum("ErrorCode" in r for r in results)
        return {"FailedRecordCount": failed, "Records": results}


def by_key(records: list[dict[str, Any]]) -> dict[str, list[bytes]]:
    keyed: dict[str, list[bytes]] = {}
    for record in records:
        keyed.setdefault(record["PartitionKey"], []).append(record["Data"])
    return keyed


def send_all(sink: KinesisSink, keys: list[str]) -> list[dict[str, Any]]:
    """Produces one record per entry of ``keys`` (data ``key:n``); returns them as sent."""
    sent: list[dict[str, Any]] = []
    for n, key in enumerate(keys):
        data = f"{key}:{n}".encode()
        sent.append({"Data": data, "PartitionKey": key})
        sink.produce("s", key, data)
    return sent


def test_a_rejected_record_reaches_the_stream_before_the_later_records_of_its_key():
    client = Shard(lambda record, n: record["Data"] == b"A:0" and n == 1)
    sink = KinesisSink(client, batch_size=5, linger=None)
    sent = send_all(sink, ["A", "B", "A", "A", "B"])
    assert by_key(client.stored) == by_key(sent)  # A:0 first, though its first offer failed
    assert client.offered[b"A:0"] == 2
    for request in client.requests:
        assert len({r["PartitionKey"] for r in request}) == len(request)
    assert (sink.counters.sent, sink.counters.acked, sink.counters.failed) == (5, 5, 0)


def test_unordered_sends_whole_batches_and_a_retried_record_follows_later_ones():
    """The documented trade-off of ``ordered=False``: fewer, fuller requests, no order on retry."""
    client = Shard(lambda record, n: record["Data"] == b"A:0" and n == 1)
    sink = KinesisSink(client, batch_size=5, linger=None, ordered=False)
    send_all(sink, ["A", "B", "A", "A", "B"])
    assert len(client.requests) == 2  # the batch, then the one retried record
    assert by_key(client.stored)["A"] == [b"A:2", b"A:3", b"A:0"]


def test_random_throttling_keeps_each_key_in_order_nothing_lost_nothing_duplicated(monkeypatch):
    monkeypatch.setattr("connectors.sinks.kinesis.time.sleep", lambda seconds: None)
    throttle = random.Random(20261204)
    client = Shard(lambda record, n: throttle.random() < 0.3)
    sink = KinesisSink(client, batch_size=200, max_attempts=40, linger=None)
    keys = random.Random(7).choices(["A", "B", "C", "D", "E"], weights=[8, 4, 2, 1, 1], k=1_500)
    sent = send_all(sink, keys)
    sink.flush()
    assert client.rejections > 300  # the test exercises retries
    assert by_key(client.stored) == by_key(sent)  # per key: the send order, all, once
    assert len(client.stored) == len(sent)
    assert (sink.counters.acked, sink.counters.failed) == (1_500, 0)


def test_a_batch_given_up_keeps_only_the_records_not_written_in_order(monkeypatch):
    monkeypatch.setattr("connectors.sinks.kinesis.time.sleep", lambda seconds: None)
    client = Shard(lambda record, n: record["Data"] == b"A:2" and n <= 2)
    sink = KinesisSink(client, batch_size=500, max_attempts=2, linger=None)
    sent = send_all(sink, ["A", "B", "A", "B", "A"])
    with pytest.raises(KinesisDeliveryError):
        sink.flush()
    assert sink.counters.failed == 1
    assert by_key(client.stored) == {"A": [b"A:0"], "B": [b"B:1", b"B:3"]}
    sink.flush()  # the next attempt: A:2 then A:4, nothing written twice
    assert by_key(client.stored) == by_key(sent)
    assert len(client.stored) == len(sent)


def test_rounds_take_the_next_record_of_each_key_at_most_500_a_request():
    keys = [f"k{i % 700}" for i in range(1_600)]
    records: list[dict[str, Any]] = [
        {"Data": str(n).encode(), "PartitionKey": key} for n, key in enumerate(keys)
    ]
    requests = rounds(records)
    assert [len(r) for r in requests] == [MAX_BATCH, 200, MAX_BATCH, 200, 200]
    for request in requests:
        assert len({records[i]["PartitionKey"] for i in request}) == len(request)
    flat = [records[i] for request in requests for i in request]
    assert sorted(r["Data"] for r in flat) == sorted(r["Data"] for r in records)
    assert by_key(flat) == by_key(records)
