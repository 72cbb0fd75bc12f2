"""The pipelineHealth query."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_server.auth import public_read
from graphql_server.context import service
from graphql_server.health.monitor import HealthMonitor
from graphql_server.health.types import PipelineHealth


@strawberry.type
class HealthQuery:
    @strawberry.field(
        description="Consumer lag per group and topic, and the Flink jobs, as of now (at most "
        "half of STREAMLINES_GRAPHQL_HEALTH_POLL_SECONDS old)."
    )
    async def pipeline_health(self, info: Info) -> PipelineHealth:
        public_read(info)
        return PipelineHealth.build(await service(info, HealthMonitor).snapshot())
