"""The gather mutations: backfill a range, append the latest bars; each needs a key and returns
its job, owned by the key's user."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import require_key
from graphql_server.context import context
from graphql_server.history import gather
from graphql_server.jobs.registry import JobRegistry
from graphql_server.jobs.types import Job
from graphql_server.scalars import BarTimeframe


def _names(symbols: list[str]) -> str:
    """The first few symbols, for a job's description."""
    return ", ".join(symbols[:5]) + (", ..." if len(symbols) > 5 else "")


@strawberry.type
class HistoryMutation:
    @strawberry.mutation(
        description="Gather the bars of these symbols starting in [start, end] into the market "
        "bucket and the history topic, as `streamlines gather` does; returns the job at once."
    )
    async def backfill(
        self,
        info: Info,
        symbols: list[str],
        start: datetime,
        end: datetime,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
    ) -> Job:
        principal = require_key(info)
        ctx = context(info)
        wanted = validation.symbols(symbols, validation.MAX_JOB_SYMBOLS)
        window = validation.time_range(start, end, None)
        work = gather.backfill(ctx.settings, wanted, window.start, window.end, timeframe)
        description = (
            f"backfill {timeframe.value} bars of {len(wanted)} symbols ({_names(wanted)}) from "
            f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"
        )
        job = ctx.get(JobRegistry).start("backfill", description, work, owner_id=principal.user_id)
        return Job.from_snapshot(job)

    @strawberry.mutation(
        description="Append the bars completed since each symbol's last stored one (every "
        "tracked symbol when `symbols` is empty), as `streamlines gather --daily`; returns the "
        "job at once."
    )
    async def append_latest(
        self,
        info: Info,
        symbols: list[str] | None = None,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
    ) -> Job:
        principal = require_key(info)
        ctx = context(info)
        wanted = validation.symbols(symbols, validation.MAX_JOB_SYMBOLS) if symbols else []
        work = gather.append_latest(ctx.settings, wanted, timeframe)
        description = (
            f"append the latest {timeframe.value} bars of {_names(wanted) or 'every symbol'}"
        )
        job = ctx.get(JobRegistry).start(
            "append_latest", description, work, owner_id=principal.user_id
        )
        return Job.from_snapshot(job)
