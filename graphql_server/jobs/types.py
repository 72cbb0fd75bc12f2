"""The GraphQL types of jobs."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from graphql_server.jobs.registry import JobSnapshot, JobState
from streamlines.contracts.time import NS_PER_SECOND, ns_to_datetime


@strawberry.enum
class JobStatus(Enum):
    QUEUED = JobState.QUEUED.value
    RUNNING = JobState.RUNNING.value
    SUCCEEDED = JobState.SUCCEEDED.value
    PARTIAL = JobState.PARTIAL.value  # some symbols failed, the others were written
    FAILED = JobState.FAILED.value


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
        )


def _seconds(t: float) -> datetime:
    return ns_to_datetime(int(t * NS_PER_SECOND))
