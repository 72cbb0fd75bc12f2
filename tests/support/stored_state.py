"""Everything a GraphQL request could change, read back for a before/after comparison: the
metadata database's rows, the points of InfluxDB buckets, a folder's files, Kafka topics'
records."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy
from influxdb_client import InfluxDBClient
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

# Columns a read may change: a key's last use.
VOLATILE_COLUMNS = {"last_used_at"}


def metadata_rows(url: str) -> dict[str, list[str]]:
    """Each table's rows (as text, sorted), but for the columns a read may change."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: sorted(
                    repr({k: v for k, v in row._mapping.items() if k not in VOLATILE_COLUMNS})
                    for row in connection.execute(sqlalchemy.text(f'SELECT * FROM "{table}"'))
                )
                for table in sqlalchemy.inspect(connection).get_table_names()
            }
    finally:
        engine.dispose()


def points(influx: InfluxDBClient, bucket: str) -> int:
    """The field values stored in a bucket, at any time since 1970."""
    flux = "from(bucket: b) |> range(start: 0) |> group() |> count()"
    tables = influx.query_api().query(flux, params={"b": bucket})
    return sum(int(record.get_value()) for table in tables for record in table.records)


def files(folder: Path) -> list[tuple[str, int, int]]:
    """Every file and folder under ``folder``: path, size, modification time."""
    if not folder.exists():
        return []
    return sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    )


def topic_records(bootstrap: str, topics: tuple[str, ...]) -> dict[str, int]:
    """Records in each of ``topics`` that exists (a topic nobody wrote to may not)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        existing = sorted(set(admin.list_topics()) & set(topics))
    finally:
        admin.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        counts = {}
        for topic in existing:
            numbers = consumer.partitions_for_topic(topic) or set()
            partitions = [TopicPartition(topic, number) for number in numbers]
            counts[topic] = sum(consumer.end_offsets(partitions).values())
        return counts
    finally:
        consumer.close()
