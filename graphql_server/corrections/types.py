"""The GraphQL types of corrections: the audit record of a deletion, and deleteBars' result."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graphql_server.corrections.delete import Deletion
from graphql_server.flux import Row
from graphql_server.jobs.types import Job
from streamlines.contracts.time import ns_to_datetime


@strawberry.type(description="Who deleted which bars, when and why (the audit record).")
class BarDeletion:
    symbol: str
    timeframe: str
    start: datetime = strawberry.field(description="First deleted bar start (inclusive).")
    end: datetime = strawberry.field(description="Exclusive end of the deleted range.")
    who: str
    reason: str
    deleted: int = strawberry.field(description="Bars deleted.")
    at: datetime = strawberry.field(description="When.")
    recompute_job: str

    @classmethod
    def from_deletion(cls, d: Deletion) -> BarDeletion:
        return cls(
            symbol=d.symbol,
            timeframe=d.timeframe,
            start=d.window.start,
            end=d.window.end,
            who=d.who,
            reason=d.reason,
            deleted=d.deleted,
            at=ns_to_datetime(d.at_ns),
            recompute_job=d.recompute_job,
        )

    @classmethod
    def from_row(cls, row: Row) -> BarDeletion:
        v = row.values
        return cls(
            symbol=row.symbol,
            timeframe=row.timeframe,
            start=ns_to_datetime(int(v.get("start_ns", 0))),
            end=ns_to_datetime(int(v.get("end_ns", 0))),
            who=str(v.get("who", "")),
            reason=str(v.get("reason", "")),
            deleted=int(v.get("deleted", 0)),
            at=ns_to_datetime(row.t_ns),
            recompute_job=str(v.get("recompute_job", "")),
        )


@strawberry.type
class DeleteBarsResult:
    deletion: BarDeletion
    recompute: Job = strawberry.field(
        description="The job recomputing the indicators that depended on the deleted bars."
    )
