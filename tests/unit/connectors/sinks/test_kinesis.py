"""The Kinesis sink's batching and retry of rejected records, with a stand-in client."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from connectors.sinks.kinesis import KinesisDeliveryError, KinesisSink
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


def trade(price: float) -> Trade:
    return Trade(symbol="GOOG", t_ns=1_000, price=price, size=1)


def test_batches_of_batch_size_then_flush_sends_the_rest():
    client = FlakyKinesis()
    sink = KinesisSink(client, batch_size=3, linger=None)
    for price in range(1, 8):
        sink.send("s", trade(price))
    assert client.calls == 2
    sink.flush()
    assert [json.loads(r["Data"])["price"] for r in client.stored["s"]] == list(range(1, 8))
    assert {r["PartitionKey"] for r in client.stored["s"]} == {"GOOG"}
    assert (sink.counters.sent, sink.counters.acked) == (7, 7)


def test_rejected_records_are_retried():
    client = FlakyKinesis(reject={2.0}, times=2)
    sink = KinesisSink(client, batch_size=3, linger=None)
    for price in (1, 2, 3):
        sink.send("s", trade(price))
    assert sorted(json.loads(r["Data"])["price"] for r in client.stored["s"]) == [1, 2, 3]
    assert client.calls == 3


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
        sink.send("s", trade(1))
        sink.send("s", trade(2))
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
