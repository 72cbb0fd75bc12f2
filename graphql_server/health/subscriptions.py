"""The pipelineHealth subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from graphql_server.auth import public_read
from graphql_server.context import service
from graphql_server.health.monitor import HealthMonitor
from graphql_server.health.types import PipelineHealth


@strawberry.type
class HealthSubscription:
    @strawberry.subscription(
        description="Pipeline health now, then whenever it changes (asked every "
        "STREAMLINES_GRAPHQL_HEALTH_POLL_SECONDS) and at least every "
        "STREAMLINES_GRAPHQL_HEALTH_HEARTBEAT_SECONDS."
    )
    async def pipeline_health(self, info: Info) -> AsyncGenerator[PipelineHealth, None]:
        public_read(info)
        async for snapshot in service(info, HealthMonitor).watch():
            yield PipelineHealth.build(snapshot)
