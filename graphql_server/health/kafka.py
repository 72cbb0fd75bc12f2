"""Consumer lag from Kafka: per consumer group and topic, the end offsets minus the group's
committed offsets, summed over the topic's partitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec


@dataclass(frozen=True)
class ConsumerLagInfo:
    group: str
    topic: str
    lag: int
    partitions: int


def lags(
    committed: Mapping[str, Mapping[TopicPartition, int]], ends: Mapping[TopicPartition, int]
) -> list[ConsumerLagInfo]:
    """Each group's lag per topic: the sum over its partitions with a committed offset (and an
    end offset: a deleted topic's are left out) of end - committed, at least 0. Sorted by group,
    then topic."""
    found: dict[tuple[str, str], list[int]] = {}
    for group, offsets in committed.items():
        for tp, offset in offsets.items():
            if offset < 0 or tp not in ends:
                continue
            found.setdefault((group, tp.topic), []).append(max(0, ends[tp] - offset))
    return [
        ConsumerLagInfo(group, topic, sum(each), len(each))
        for (group, topic), each in sorted(found.items())
    ]


def read_lags(admin: KafkaAdminClient) -> list[ConsumerLagInfo]:
    """The lag of every consumer group that has committed offsets."""
    groups = [str(g["group_id"]) for g in admin.list_groups()]
    if not groups:
        return []
    raw = admin.list_group_offsets(groups)
    topics = set(admin.list_topics())
    committed = {
        group: {tp: meta.offset for tp, meta in offsets.items() if tp.topic in topics}
        for group, offsets in raw.items()
    }
    wanted = {tp for offsets in committed.values() for tp in offsets}
    if not wanted:
        return []
    answer = admin.list_partition_offsets(dict.fromkeys(wanted, OffsetSpec.LATEST))
    return lags(committed, {tp: found.offset for tp, found in answer.items()})
