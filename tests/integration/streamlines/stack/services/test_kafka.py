"""kafka-python against the real local broker: what is produced comes back, in order, per key."""

from __future__ import annotations

import json

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic


def test_produce_then_consume_keyed_messages(stack, settings, unique_name, read_topic):
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(unique_name, num_partitions=3, replication_factor=1)])
    admin.close()

    sent = [
        {"S": symbol, "seq": i, "p": 100.0 + i / 100}
        for i in range(300)
        for symbol in ("AAPL", "MSFT", "BTC/USD")
    ]
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        key_serializer=str.encode,
        value_serializer=lambda v: json.dumps(v).encode(),
    )
    for message in sent:
        producer.send(unique_name, key=message["S"], value=message)
    producer.flush(timeout=30)
    producer.close()

    received = [
        (r.partition, r.key.decode(), json.loads(r.value))
        for r in read_topic(unique_name, len(sent))
    ]

    assert sorted((r[2]["S"], r[2]["seq"]) for r in received) == sorted(
        (m["S"], m["seq"]) for m in sent
    )
    # Keyed by symbol: one partition per symbol, and the order within it is the send order.
    for symbol in ("AAPL", "MSFT", "BTC/USD"):
        mine = [r for r in received if r[1] == symbol]
        assert len({partition for partition, _, _ in mine}) == 1
        assert [value["seq"] for _, _, value in mine] == list(range(300))
