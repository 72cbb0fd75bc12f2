"""ensure_topics on the real broker: creates what is missing, leaves what exists alone."""

from __future__ import annotations

from kafka.admin import KafkaAdminClient, NewTopic

from connectors.sinks.kafka import ensure_topics


def partitions(bootstrap: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        (description,) = admin.describe_topics([topic])
        return len(description["partitions"])
    finally:
        admin.close()


def test_creates_missing_topics_once_and_keeps_existing_ones(stack, settings, unique_name):
    bootstrap = settings.kafka_bootstrap
    existing, new = f"{unique_name}.old", f"{unique_name}.new"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(existing, num_partitions=2, replication_factor=1)])
    admin.close()

    assert ensure_topics(bootstrap, [existing, new, new], partitions=3) == [new]
    assert partitions(bootstrap, new) == 3
    assert partitions(bootstrap, existing) == 2
    assert ensure_topics(bootstrap, [existing, new], partitions=3) == []
