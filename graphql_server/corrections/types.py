"""The GraphQL types of corrections: the audit record of a deletion, and deleteBars' result."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graphql_server.jobs.types import Job
from streamlines.metadata.audit import DeletionRecord


@strawberry.type(description="Who deleted which bars, when and why (the audit record).")
class BarDeletion:
    symbol: str
    timeframe: str
    start: datetime = strawberry.field(description="First deleted bar start (inclusive).")
    end: datetime = strawberry.field(description="Exclusive end of the deleted range.")
    who: str = strawberry.field(description="The user whose key deleted them.")
    reason: str
    deleted: int = strawberry.field(description="Bars deleted.")
    at: datetime = strawberry.field(description="When.")
    recompute_job: str

    @classmethod
    def from_record(cls, record: DeletionRecord) -> BarDeletion:
        return cls(
            symbol=record.symbol,
            timeframe=record.timeframe,
            start=record.start,
            end=record.end,
            who=record.who,
            reason=record.reason,
            deleted=record.deleted,
            at=record.deleted_at,
            recompute_job=record.recompute_job,
        )


@strawberry.type
class DeleteBarsResult:
    deletion: BarDeletion
    recompute: Job = strawberry.field(
        description="The job recomputing the indicators that depended on the deleted bars."
    )
