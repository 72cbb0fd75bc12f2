"""The GraphQL types of jobs."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_server.context import service
from graphql_server.jobs.snapshot import JobSnapshot, JobState
from streamlines.contracts.time import NS_PER_SECOND, ns_to_datetime
from streamlines.metadata.jobs import JobStore

# Where a request keeps the user names it looked up (a list of jobs has few owners).
OWNER_NAMES = "job_owner_names"


@strawberry.enum
class JobStatus(Enum):
    QUEUED = JobState.QUEUED.value
    RUNNING = JobState.RUNNING.value
    SUCCEEDED = JobState.SUCCEEDED.value
    PARTIAL = JobState.PARTIAL.value  # some symbols failed, the others were written
    FAILED = JobState.FAILED.value
    INTERRUPTED = JobState.INTERRUPTED.value  # the server stopped while it ran: start it again


@strawberry.type(description="A long operation the server runs (backfill, append, recompute).")
class Job:
    id: str
    kind: str
    status: JobStatus
    description: str
    phase: str = strawberry.field(description="What it is doing now.")
    done: int = strawberry.field(description="Units done: symbols, or steps of a recompute.")
    total: int
    items: int = strawberry.field(description="Bars gathered, or records recomputed, so far.")
    errors: list[str]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: JSON = strawberry.field(description="Counts once finished (bars, points, ...).")
    owner_id: strawberry.Private[int | None] = None

    @strawberry.field(description="The name of the user whose key started it (null: nobody's).")
    def owner(self, info: Info) -> str | None:
        if self.owner_id is None:
            return None
        names: dict[int, str] = info.context.setdefault(OWNER_NAMES, {})
        if self.owner_id not in names:
            names.update(service(info, JobStore).owner_names([self.owner_id]))
        return names.get(self.owner_id)

    @strawberry.field(description="done / total, from 0 to 1 (null before the total is known).")
    def progress(self) -> float | None:
        return self.done / self.total if self.total else None

    @classmethod
    def from_snapshot(cls, job: JobSnapshot) -> Job:
        return cls(
            id=job.id,
            kind=job.kind,
            status=JobStatus(job.state.value),
            description=job.description,
            phase=job.phase,
            done=job.done,
            total=job.total,
            items=job.items,
            errors=list(job.errors),
            created_at=_seconds(job.created_at),
            started_at=None if job.started_at is None else _seconds(job.started_at),
            finished_at=None if job.finished_at is None else _seconds(job.finished_at),
            result=json.loads(json.dumps(job.result)),
            owner_id=job.owner_id,
        )


def _seconds(t: float) -> datetime:
    return ns_to_datetime(int(t * NS_PER_SECOND))
