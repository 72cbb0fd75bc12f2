"""read_to_end on the real Kafka: every record of every partition up to the end offsets."""

from kafka import KafkaProducer

from connectors.sinks.kafka import ensure_topics
from connectors.topic_reader import read_to_end


def test_reads_every_partition_to_its_end_and_an_empty_topic_at_once(stack, settings, unique_name):
    ensure_topics(settings.kafka_bootstrap, [unique_name], partitions=3)
    assert read_to_end(settings.kafka_bootstrap, unique_name) == []
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    for k in range(30):
        producer.send(unique_name, key=f"s{k % 7}".encode(), value=str(k).encode())
    producer.flush()
    producer.close()
    records = read_to_end(settings.kafka_bootstrap, unique_name)
    assert sorted(int(r.value) for r in records) == list(range(30))
    assert len({r.partition for r in records}) > 1
