"""Read a whole Kafka topic as it is now: every record up to the end offsets at the start."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from streamlines.connections import kafka_client_config
from streamlines.settings import Settings


def read_to_end(kafka: Settings | str, topic: str) -> list[ConsumerRecord]:
    """Every record of ``topic`` (all partitions, each in offset order) up to its end offsets
    when called; records produced meanwhile are not waited for. ``kafka``: the settings, or a
    PLAINTEXT broker's bootstrap servers."""
    consumer = KafkaConsumer(**kafka_client_config(kafka), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=1000, max_records=10_000).values():
                records.extend(
                    r for r in batch if r.offset < ends[TopicPartition(topic, r.partition)]
                )
        return records
    finally:
        consumer.close()
