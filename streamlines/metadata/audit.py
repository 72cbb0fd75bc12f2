"""The audit of deleted bars: who (the key's user), which bars, when and why; written before the
bars are deleted, so no deletion goes unrecorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from streamlines.metadata.database import Database
from streamlines.metadata.tables import BarDeletion, now


@dataclass(frozen=True)
class DeletionRecord:
    id: int
    who: str
    user_id: int | None
    symbol: str
    timeframe: str
    start: datetime
    end: datetime
    reason: str
    deleted: int
    recompute_job: str
    deleted_at: datetime


def _record(row: BarDeletion) -> DeletionRecord:
    return DeletionRecord(row.id, row.who, row.user_id, row.symbol, row.timeframe, row.start,
                          row.end, row.reason, row.deleted, row.recompute_job,
                          row.deleted_at)  # fmt: skip


class DeletionAudit:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record(self, *, user_id: int | None, who: str, symbol: str, timeframe: str,
               start: datetime, end: datetime, reason: str, deleted: int,
               recompute_job: str) -> DeletionRecord:  # fmt: skip
        with self.database.session() as session:
            row = BarDeletion(user_id=user_id, who=who, symbol=symbol, timeframe=timeframe,
                              start=start, end=end, reason=reason, deleted=deleted,
                              recompute_job=recompute_job, deleted_at=now())  # fmt: skip
            session.add(row)
            session.flush()
            return _record(row)

    def recent(self, limit: int, symbol: str | None = None) -> list[DeletionRecord]:
        """The newest ``limit`` deletions, newest first (of one symbol, when given)."""
        with self.database.session() as session:
            query = select(BarDeletion).order_by(BarDeletion.deleted_at.desc(),
                                                 BarDeletion.id.desc()).limit(limit)  # fmt: skip
            if symbol is not None:
                query = query.where(BarDeletion.symbol == symbol)
            return [_record(row) for row in session.scalars(query).all()]
