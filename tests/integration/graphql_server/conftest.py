"""Fixtures of the GraphQL server's integration tests."""

from __future__ import annotations

import pytest
from kafka.admin import KafkaAdminClient, NewTopic


@pytest.fixture
def topic(stack, settings, unique_name):
    """A ripples topic of the test's own (one partition) on the shared stack's Kafka."""
    name = f"{unique_name}.ripples"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    admin.close()
    return name
