"""Reading a Kinesis stream back in tests: every record of its shards, each shard in order."""

from __future__ import annotations

import time
from typing import Any


def read_stream(client: Any, name: str, count: int, timeout: float = 20.0) -> list[dict]:
    """The records of stream ``name`` from the trim horizon, shard after shard, until ``count``
    have arrived or ``timeout`` seconds have passed (GetRecords; records in shard order)."""
    shards = client.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    iterators = [
        client.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for shard in shards
    ]
    by_shard: list[list[dict]] = [[] for _ in shards]
    deadline = time.monotonic() + timeout
    while sum(map(len, by_shard)) < count and time.monotonic() < deadline:
        for i, iterator in enumerate(iterators):
            batch = client.get_records(ShardIterator=iterator, Limit=1000)
            by_shard[i] += batch["Records"]
            iterators[i] = batch["NextShardIterator"]
    return [record for records in by_shard for record in records]
