"""deleteBars: delete bad bars, record who (the key's user) and why, start the recompute of the
indicators."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import require_key
from graphql_server.context import context
from graphql_server.corrections import recompute
from graphql_server.corrections.delete import delete_bars
from graphql_server.corrections.store import CorrectionsStore
from graphql_server.corrections.types import BarDeletion, DeleteBarsResult
from graphql_server.jobs.registry import JobRegistry
from graphql_server.jobs.types import Job
from graphql_server.scalars import BarTimeframe
from streamlines.metadata.audit import DeletionAudit


@strawberry.type
class CorrectionsMutation:
    @strawberry.mutation(
        description="Delete a symbol's bars starting in [start, end) from the market bucket, "
        "record who did it (the key's user) and why, and start the recompute of the "
        "indicators from `start` on."
    )
    async def delete_bars(
        self,
        info: Info,
        symbol: str,
        start: datetime,
        end: datetime,
        reason: str,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
    ) -> DeleteBarsResult:
        principal = require_key(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end, None)
        why = validation.reason(reason)
        jobs = ctx.get(JobRegistry)
        jobs.check_room(principal.user_id)  # before the bars go: their recompute must start
        job_id = jobs.new_id()
        record = await asyncio.to_thread(
            delete_bars, ctx.settings, ctx.get(CorrectionsStore), ctx.get(DeletionAudit), symbol,
            timeframe.value, window, principal, why, job_id,
        )  # fmt: skip
        work = recompute.recompute(ctx.settings, symbol, timeframe.value, window.start_ns)
        description = (
            f"recompute the {timeframe.value} indicators of {symbol} from "
            f"{window.start.isoformat()} after {record.deleted} bars were deleted"
        )
        job = jobs.start("recompute", description, work, job_id=job_id,
                         owner_id=principal.user_id)  # fmt: skip
        return DeleteBarsResult(
            deletion=BarDeletion.from_record(record), recompute=Job.from_snapshot(job)
        )
