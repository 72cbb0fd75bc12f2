"""A job's state at one moment (``JobSnapshot``), and the one place that converts it to and from
the row the metadata database keeps (``streamlines.metadata.jobs.StoredJob``): snapshots count
time in float epoch seconds, stored jobs in UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from streamlines.metadata.jobs import StoredJob


class JobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, but some symbols failed (the others were written)
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the server stopped while it was queued or running

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class JobSnapshot:
    """A job's state at one moment (immutable: safe to hand to any thread)."""

    id: str
    kind: str
    state: JobState
    created_at: float
    description: str
    phase: str = "queued"
    done: int = 0  # units of work done (symbols, or steps)
    total: int = 0
    items: int = 0  # bars gathered, deleted or recomputed so far
    errors: tuple[str, ...] = ()
    started_at: float | None = None
    finished_at: float | None = None
    result: dict[str, int | float | str] = field(default_factory=dict)
    owner_id: int | None = None  # the user whose key started it (None: nobody's)


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


def to_stored(job: JobSnapshot) -> StoredJob:
    return StoredJob(
        id=job.id, owner_id=job.owner_id, kind=job.kind, description=job.description,
        state=job.state.value, phase=job.phase, done=job.done, total=job.total, items=job.items,
        created_at=_datetime(job.created_at), errors=job.errors, result=dict(job.result),
        started_at=None if job.started_at is None else _datetime(job.started_at),
        finished_at=None if job.finished_at is None else _datetime(job.finished_at),
    )  # fmt: skip


def from_stored(job: StoredJob) -> JobSnapshot:
    return JobSnapshot(
        id=job.id, kind=job.kind, state=JobState(job.state), created_at=_seconds(job.created_at),
        description=job.description, phase=job.phase, done=job.done, total=job.total,
        items=job.items, errors=tuple(job.errors),
        started_at=None if job.started_at is None else _seconds(job.started_at),
        finished_at=None if job.finished_at is None else _seconds(job.finished_at),
        result=dict(job.result), owner_id=job.owner_id,
    )  # fmt: skip
