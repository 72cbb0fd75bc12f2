"""A topic's offsets, to tie a test to the records written while it ran: the end offsets before
(``end_offsets``), what a consumer group has committed (``committed_offsets``), and the records
between two sets of offsets (``records_between``)."""

from __future__ import annotations

import json
import time
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

Offsets = dict[int, int]


def end_offsets(bootstrap: str, topic: str) -> Offsets:
    """Each partition's end offset now (0 for every partition of a topic not created yet)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return {tp.partition: offset for tp, offset in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group: str, topic: str) -> Offsets:
    """The offsets ``group`` has committed on ``topic``'s partitions (none: not in the map)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets([group]).get(group, {})
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


def records_between(
    bootstrap: str, topic: str, start: Offsets, stop: Offsets, timeout_s: float = 60.0
) -> list[dict[str, Any]]:
    """The records of ``topic`` at offsets ``start[p] <= offset < stop[p]`` of each partition p
    (a partition missing from ``start`` from its beginning), decoded from JSON."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        wanted = {p: (start.get(p, 0), end) for p, end in stop.items() if end > start.get(p, 0)}
        partitions = {p: TopicPartition(topic, p) for p in wanted}
        consumer.assign(list(partitions.values()))
        for p, (first, _) in wanted.items():
            consumer.seek(partitions[p], first)
        values: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(partitions[p]) < end for p, (_, end) in wanted.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: not every record up to {stop} arrived")
            for batch in consumer.poll(timeout_ms=500, max_records=10_000).values():
                values.extend(
                    json.loads(r.value) for r in batch if r.offset < wanted[r.partition][1]
                )
        return values
    finally:
        consumer.close()
