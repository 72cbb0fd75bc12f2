"""ensure_topics on the real broker: creates what is missing, leaves what exists alone.
KafkaSink puts each key on the partition the Java client and kafka-python choose, and an
unreachable broker is a UserError when the sink starts."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.partitioner.default import murmur2

from connectors.sinks.kafka import KafkaSink, ensure_topics
from connectors.topic_reader import read_to_end
from streamlines.child import free_port
from streamlines.errors import UserError


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


def partition_by_key(bootstrap: str, topic: str) -> dict[bytes, int]:
    chosen: dict[bytes, set[int]] = {}
    for record in read_to_end(bootstrap, topic):
        chosen.setdefault(record.key, set()).add(record.partition)
    assert all(len(partitions) == 1 for partitions in chosen.values()), chosen
    return {key: partitions.pop() for key, partitions in chosen.items()}


def test_keys_land_on_the_partitions_kafka_python_and_the_java_client_choose(
    stack, settings, unique_name
):
    bootstrap, partitions = settings.kafka_bootstrap, 7
    ours, theirs = f"{unique_name}.sink", f"{unique_name}.kafka-python"
    ensure_topics(bootstrap, [ours, theirs], partitions=partitions)
    keys = [f"SYN{k:04d}".encode() for k in range(300)] + [b"GOOG", b"BTC/USD", b"EUR/USD"]
    sink = KafkaSink(bootstrap, client_id="partition-test")
    reference = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for key in keys * 2:
        sink.produce(ours, key, b"v")
        reference.send(theirs, key=key, value=b"v")
    sink.flush(30)
    sink.close(10)
    reference.flush(30)
    reference.close()
    assert (sink.counters.acked, sink.counters.failed) == (len(keys) * 2, 0)

    placed = partition_by_key(bootstrap, ours)
    # The Java client's choice: the key's murmur2, made positive, modulo the partition count.
    assert placed == {key: (murmur2(key) & 0x7FFFFFFF) % partitions for key in keys}
    assert placed == partition_by_key(bootstrap, theirs)
    assert set(placed.values()) == set(range(partitions))


def test_an_unreachable_broker_is_a_user_error_when_the_sink_starts():
    nobody = f"127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(UserError) as unreachable:
        KafkaSink(nobody, block_timeout=2.0)
    assert f"cannot reach Kafka at {nobody}" in str(unreachable.value)
    assert "STREAMLINES_KAFKA_ADDRESS" in str(unreachable.value.hint)
