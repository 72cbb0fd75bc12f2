"""deleteBars: delete bad bars, record who and why, start the recompute of the indicators."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.context import context
from graphql_server.corrections import recompute
from graphql_server.corrections.delete import delete_bars
from graphql_server.corrections.store import CorrectionsStore
from graphql_server.corrections.types import BarDeletion, DeleteBarsResult
from graphql_server.jobs.registry import JobRegistry
from graphql_server.jobs.types import Job
from graphql_server.scalars import BarTimeframe

USER_HEADER = "x-streamlines-user"


def _who(info: Info) -> str:
    """Who asked: the X-Streamlines-User header (set by a proxy that authenticates users), else
    the client's address."""
    request = info.context.get("request")
    headers = getattr(request, "headers", {}) or {}
    user = headers.get(USER_HEADER, "").strip()
    if user:
        return user[:200]
    client = getattr(request, "client", None)
    return f"anonymous@{client.host}" if client else "anonymous"


@strawberry.type
class CorrectionsMutation:
    @strawberry.mutation(
        description="Delete a symbol's bars starting in [start, end) from the market bucket, "
        "record who did it and why (who: the X-Streamlines-User header, else the client's "
        "address), and start the recompute of the indicators from `start` on."
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
        ctx = context(info)
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end, None)
        why = validation.reason(reason)
        jobs = ctx.get(JobRegistry)
        job_id = jobs.new_id()
        deletion = await asyncio.to_thread(
            delete_bars, ctx.settings, ctx.get(CorrectionsStore), symbol, timeframe.value, window,
            _who(info), why, job_id,
        )  # fmt: skip
        work = recompute.recompute(ctx.settings, symbol, timeframe.value, window.start_ns)
        description = (
            f"recompute the {timeframe.value} indicators of {symbol} from "
            f"{window.start.isoformat()} after {deletion.deleted} bars were deleted"
        )
        job = jobs.start("recompute", description, work, job_id=job_id)
        return DeleteBarsResult(
            deletion=BarDeletion.from_deletion(deletion), recompute=Job.from_snapshot(job)
        )
