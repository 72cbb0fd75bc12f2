"""The job queries: one job by id, the latest jobs."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_server.context import service
from graphql_server.jobs.registry import JobRegistry
from graphql_server.jobs.types import Job

MAX_JOBS = 1000


@strawberry.type
class JobsQuery:
    @strawberry.field(description="A job by id; null when the server does not know it.")
    def job(self, info: Info, id: str) -> Job | None:
        snapshot = service(info, JobRegistry).get(id)
        return None if snapshot is None else Job.from_snapshot(snapshot)

    @strawberry.field(description="The latest jobs, newest first.")
    def jobs(self, info: Info, limit: int = 20) -> list[Job]:
        recent = service(info, JobRegistry).recent(max(1, min(limit, MAX_JOBS)))
        return [Job.from_snapshot(j) for j in recent]
