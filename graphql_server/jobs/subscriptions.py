"""The job subscription: a job's state now and at each change, until it ends (a key is needed;
another user's job answers as an unknown one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from graphql_server.auth import require_key
from graphql_server.context import service
from graphql_server.errors import QueryError
from graphql_server.jobs.registry import JobRegistry
from graphql_server.jobs.types import Job


@strawberry.type
class JobsSubscription:
    @strawberry.subscription(
        description="A job's state now and at each change (progress, errors), until it ends."
    )
    async def job(self, info: Info, id: str) -> AsyncGenerator[Job, None]:
        principal = require_key(info)
        registry = service(info, JobRegistry)
        found = await asyncio.to_thread(registry.get, id)
        if found is None or not principal.owns(found.owner_id):
            raise QueryError(f"no job {id!r}: the server does not know it (jobs lists them)")
        async for snapshot in registry.watch(id):
            yield Job.from_snapshot(snapshot)
