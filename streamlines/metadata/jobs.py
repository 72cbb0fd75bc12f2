"""The GraphQL server's jobs, kept so that a restart loses none: each change of state is
written (progress at most once a second per job, see ``graphql_server.jobs.registry``); at
start, the jobs a stopped server left queued or running are marked interrupted."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from streamlines.metadata.database import Database
from streamlines.metadata.tables import Job, User, now

UNFINISHED_STATES = ("queued", "running")
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class StoredJob:
    id: str
    owner_id: int | None
    kind: str
    description: str
    state: str
    phase: str
    done: int
    total: int
    items: int
    created_at: datetime
    errors: tuple[str, ...] = ()
    result: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None


def _stored(row: Job) -> StoredJob:
    return StoredJob(
        id=row.id, owner_id=row.owner_id, kind=row.kind, description=row.description,
        state=row.state, phase=row.phase, done=row.done, total=row.total, items=row.items,
        created_at=row.created_at, errors=tuple(row.errors or ()), result=dict(row.result or {}),
        started_at=row.started_at, finished_at=row.finished_at,
    )  # fmt: skip


class JobStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def save(self, job: StoredJob) -> None:
        with self.database.session() as session:
            session.merge(
                Job(
                    id=job.id,
                    owner_id=job.owner_id,
                    kind=job.kind,
                    description=job.description,
                    state=job.state,
                    phase=job.phase,
                    done=job.done,
                    total=job.total,
                    items=job.items,
                    errors=list(job.errors),
                    result=dict(job.result),
                    created_at=job.created_at,
                    started_at=job.started_at,
                    finished_at=job.finished_at,
                )
            )

    def get(self, job_id: str) -> StoredJob | None:
        with self.database.session() as session:
            row = session.get(Job, job_id)
            return None if row is None else _stored(row)

    def recent(self, limit: int, owner_id: int | None = None) -> list[StoredJob]:
        """The newest ``limit`` jobs, newest first (of one owner, when given)."""
        with self.database.session() as session:
            query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
            if owner_id is not None:
                query = query.where(Job.owner_id == owner_id)
            return [_stored(row) for row in session.scalars(query).all()]

    def mark_interrupted(self, why: str) -> int:
        """Mark the jobs left queued or running as interrupted (their server stopped); returns
        how many."""
        with self.database.session() as session:
            rows = session.scalars(select(Job).where(Job.state.in_(UNFINISHED_STATES))).all()
            for row in rows:
                row.state = INTERRUPTED
                row.phase = INTERRUPTED
                row.finished_at = now()
                row.errors = [*(row.errors or []), why]
            return len(rows)

    def owner_names(self, owner_ids: Collection[int]) -> dict[int, str]:
        """The user name of each of these user ids (a deleted user is left out)."""
        if not owner_ids:
            return {}
        with self.database.session() as session:
            rows = session.execute(select(User.id, User.name).where(User.id.in_(owner_ids)))
            return {user_id: name for user_id, name in rows.all()}
