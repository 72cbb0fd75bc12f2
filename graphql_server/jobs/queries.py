"""The job queries: one job by id, the latest jobs. A key is needed; a user sees their own jobs
(another's answers as an unknown one), an administrator every job."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from graphql_server.auth import require_key
from graphql_server.context import service
from graphql_server.jobs.registry import JobRegistry
from graphql_server.jobs.types import Job

MAX_JOBS = 1000


@strawberry.type
class JobsQuery:
    @strawberry.field(
        description="A job by id; null when the server does not know it or it is another "
        "user's (administrators see every job)."
    )
    async def job(self, info: Info, id: str) -> Job | None:
        principal = require_key(info)
        snapshot = await asyncio.to_thread(service(info, JobRegistry).get, id)
        if snapshot is None or not principal.owns(snapshot.owner_id):
            return None
        return Job.from_snapshot(snapshot)

    @strawberry.field(
        description="The latest jobs, newest first: your own (administrators: everyone's)."
    )
    async def jobs(self, info: Info, limit: int = 20) -> list[Job]:
        principal = require_key(info)
        owner = None if principal.is_admin else principal.user_id
        registry = service(info, JobRegistry)
        recent = await asyncio.to_thread(registry.recent, max(1, min(limit, MAX_JOBS)), owner)
        return [Job.from_snapshot(j) for j in recent]
