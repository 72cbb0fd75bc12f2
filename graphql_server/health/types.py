"""The GraphQL types of pipeline health."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graphql_server.health.flink import JobInfo
from graphql_server.health.kafka import ConsumerLagInfo
from graphql_server.health.monitor import HealthSnapshot
from graphql_server.scalars import BigInt
from streamlines.contracts.time import NS_PER_MILLISECOND, ns_to_datetime


@strawberry.type(description="How far one consumer group is behind on one topic.")
class ConsumerLag:
    group: str
    topic: str
    lag: BigInt = strawberry.field(
        description="Records not yet consumed: the sum over the topic's partitions of the end "
        "offset minus the group's committed offset."
    )
    partitions: int = strawberry.field(description="Partitions the group has committed on.")

    @classmethod
    def build(cls, info: ConsumerLagInfo) -> ConsumerLag:
        return cls(group=info.group, topic=info.topic, lag=BigInt(info.lag),
                   partitions=info.partitions)  # fmt: skip


@strawberry.type(description="A Flink job of the cluster.")
class JobHealth:
    id: str
    name: str
    state: str = strawberry.field(description="Flink's state: RUNNING, FINISHED, FAILED, ...")
    start_time: datetime | None
    late_records_dropped: BigInt | None = strawberry.field(
        description="Rows its event-time operators dropped as behind the watermark "
        "(numLateRecordsDropped, all operators and subtasks); null when not running. Flink "
        "refreshes metrics every 10 s."
    )
    records_in_per_second: float | None = strawberry.field(
        description="Records its sources read per second (numRecordsOutPerSecond of the "
        "source vertices); null when not running."
    )

    @classmethod
    def build(cls, info: JobInfo) -> JobHealth:
        start = info.start_time_ms
        late = info.late_records_dropped
        return cls(
            id=info.id,
            name=info.name,
            state=info.state,
            start_time=None if start is None else ns_to_datetime(start * NS_PER_MILLISECOND),
            late_records_dropped=None if late is None else BigInt(late),
            records_in_per_second=info.records_in_per_second,
        )


@strawberry.type(
    description="The pipeline's health as of updatedAt: consumer lag per group and topic, the "
    "Flink jobs. When Kafka or Flink does not answer, its list is empty and kafkaError or "
    "flinkError says why."
)
class PipelineHealth:
    updated_at: datetime
    consumers: list[ConsumerLag]
    jobs: list[JobHealth]
    kafka_error: str | None
    flink_error: str | None

    @classmethod
    def build(cls, snapshot: HealthSnapshot) -> PipelineHealth:
        return cls(
            updated_at=snapshot.updated_at,
            consumers=[ConsumerLag.build(c) for c in snapshot.consumers],
            jobs=[JobHealth.build(j) for j in snapshot.jobs],
            kafka_error=snapshot.kafka_error,
            flink_error=snapshot.flink_error,
        )
