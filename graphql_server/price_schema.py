"""The price store's part of the schema: queries on gathered bars and the currents job's
results, the mutations that gather or correct bars (as jobs), and job updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from connectors.gather.timeframe import Timeframe as GatherTimeframe
from graphql_server import validation
from graphql_server.errors import QueryError
from graphql_server.operations import gather_jobs, recompute
from graphql_server.operations.delete_bars import delete_bars
from graphql_server.price_store import Row
from graphql_server.price_types import (
    BarDeletion,
    BarTimeframe,
    DeleteBarsResult,
    Indicator,
    IndicatorSeries,
    Job,
    Series,
    SeriesData,
    Signal,
    VolatilityMeasure,
    VolatilityRanking,
)
from graphql_server.validation import TimeRange

if TYPE_CHECKING:
    from graphql_server.schema import Context

# How far before `at` the ranking looks for the latest round (rounds stop over a weekend when
# only stocks are tracked).
VOLATILITY_LOOKBACK = timedelta(days=7)
MAX_RANKING = 10_000
FAR_FUTURE = datetime(2100, 1, 1)
USER_HEADER = "x-streamlines-user"


def _ctx(info: Info) -> Context:
    return info.context["app"]


async def _rows(
    ctx: Context, what: str, read: Callable[..., list[Row]], *args: object
) -> list[Row]:
    """``read(*args, max_rows)`` on a worker thread; a clear error past the server's limit."""
    most = ctx.settings.graphql_max_points
    rows = await asyncio.to_thread(read, *args, most + 1)
    if len(rows) > most:
        raise QueryError(
            f"more than {most:,} {what} in that range (the server's limit, "
            "STREAMLINES_GRAPHQL_MAX_POINTS): ask for a shorter range"
        )
    return rows


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
class PriceQuery:
    @strawberry.field(
        description="The stored bars of a ticker starting in [start, end) (no end: all from "
        "start on), as columns. adjusted: also the split/dividend-adjusted columns."
    )
    async def series(
        self,
        info: Info,
        ticker: str,
        start: datetime,
        end: datetime | None = None,
        adjusted: bool = False,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
    ) -> Series:
        ctx = _ctx(info)
        ticker = validation.symbol(ticker)
        window = validation.time_range(start, end or FAR_FUTURE, None)
        rows = await _rows(ctx, "bars", ctx.prices.bars, ticker, timeframe.value, window)
        return Series(
            ticker=ticker,
            timeframe=timeframe,
            adjusted=adjusted,
            data=SeriesData.from_rows(rows, adjusted),
        )

    @strawberry.field(
        description="Indicators of a symbol at bars starting in [start, end), one columnar "
        "series per name (computed by the currents job on the price, the adjusted close)."
    )
    async def indicators(
        self,
        info: Info,
        symbol: str,
        names: list[Indicator],
        start: datetime,
        end: datetime | None = None,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
    ) -> list[IndicatorSeries]:
        ctx = _ctx(info)
        symbol = validation.symbol(symbol)
        if not names:
            raise QueryError("no indicator names: pass some, e.g. names: [SMA, RSI]")
        window = validation.time_range(start, end or FAR_FUTURE, None)
        result = []
        for name in dict.fromkeys(names):
            metric = f"{name.value}_{timeframe.value}"
            rows = await _rows(ctx, f"{name.value} values", ctx.prices.indicator, symbol, metric,
                               window)  # fmt: skip
            result.append(IndicatorSeries.from_rows(symbol, name, timeframe, metric, rows))
        return result

    @strawberry.field(
        description="Moving-average crossover signals of these symbols since a time, oldest "
        "first: each flip, and the first known state of each pair."
    )
    async def signals(
        self,
        info: Info,
        symbols: list[str],
        since: datetime,
        until: datetime | None = None,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
    ) -> list[Signal]:
        ctx = _ctx(info)
        wanted = validation.symbols(symbols)
        window = validation.time_range(since, until or FAR_FUTURE, None)
        rows = await _rows(ctx, "signals", ctx.prices.signals, wanted, timeframe.value, window)
        return [Signal.from_row(row, timeframe) for row in rows]

    @strawberry.field(
        description="Every symbol ranked by its 24-hour volatility in the latest round at or "
        "before `at` (rounds are every minute; null when there is none in the 7 days before)."
    )
    async def volatility_ranking(
        self,
        info: Info,
        at: datetime,
        limit: int = 20,
        by: VolatilityMeasure = VolatilityMeasure.REL_STD,
    ) -> VolatilityRanking | None:
        ctx = _ctx(info)
        if not 1 <= limit <= MAX_RANKING:
            raise QueryError(f"limit {limit}: use a number from 1 to {MAX_RANKING}")
        at_ns = TimeRange(validation.utc(at), validation.utc(at)).start_ns
        lookback = int(VOLATILITY_LOOKBACK.total_seconds()) * 1_000_000_000
        found = await asyncio.to_thread(ctx.prices.volatility_round, at_ns, lookback)
        if found is None:
            return None
        t_ns, rows = found
        return VolatilityRanking.build(t_ns, rows, by, limit)

    @strawberry.field(description="A job by id; null when the server does not know it.")
    def job(self, info: Info, id: str) -> Job | None:
        snapshot = _ctx(info).jobs.get(id)
        return None if snapshot is None else Job.from_snapshot(snapshot)

    @strawberry.field(description="The latest jobs, newest first.")
    def jobs(self, info: Info, limit: int = 20) -> list[Job]:
        return [Job.from_snapshot(j) for j in _ctx(info).jobs.recent(max(1, min(limit, 1000)))]

    @strawberry.field(description="The audit of deleted bars, newest first.")
    async def bar_deletions(
        self, info: Info, symbol: str | None = None, limit: int = 100
    ) -> list[BarDeletion]:
        ctx = _ctx(info)
        wanted = None if symbol is None else validation.symbol(symbol)
        rows = await asyncio.to_thread(ctx.prices.deletions, wanted, max(1, min(limit, 10_000)))
        return [BarDeletion.from_row(row) for row in rows]


@strawberry.type
class PriceMutation:
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
        ctx = _ctx(info)
        wanted = validation.symbols(symbols, validation.MAX_JOB_SYMBOLS)
        window = validation.time_range(start, end, None)
        work = gather_jobs.backfill(
            ctx.settings, wanted, window.start, window.end, GatherTimeframe(timeframe.value)
        )
        description = (
            f"backfill {timeframe.value} bars of {len(wanted)} symbols "
            f"({', '.join(wanted[:5])}{', ...' if len(wanted) > 5 else ''}) from "
            f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"
        )
        return Job.from_snapshot(ctx.jobs.start("backfill", description, work))

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
        ctx = _ctx(info)
        wanted = validation.symbols(symbols, validation.MAX_JOB_SYMBOLS) if symbols else []
        work = gather_jobs.append_latest(ctx.settings, wanted, GatherTimeframe(timeframe.value))
        names = ", ".join(wanted[:5]) + (", ..." if len(wanted) > 5 else "") or "every symbol"
        description = f"append the latest {timeframe.value} bars of {names}"
        return Job.from_snapshot(ctx.jobs.start("append_latest", description, work))

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
        ctx = _ctx(info)
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end, None)
        why = validation.reason(reason)
        job_id = ctx.jobs.new_id()
        deletion = await asyncio.to_thread(
            delete_bars, ctx.settings, ctx.prices, symbol, timeframe.value, window, _who(info),
            why, job_id,
        )  # fmt: skip
        work = recompute.recompute(ctx.settings, symbol, timeframe.value, window.start_ns)
        description = (
            f"recompute the {timeframe.value} indicators of {symbol} from "
            f"{window.start.isoformat()} after {deletion.deleted} bars were deleted"
        )
        job = ctx.jobs.start("recompute", description, work, job_id=job_id)
        return DeleteBarsResult(
            deletion=BarDeletion.from_deletion(deletion), recompute=Job.from_snapshot(job)
        )


@strawberry.type
class PriceSubscription:
    @strawberry.subscription(
        description="A job's state now and at each change (progress, errors), until it ends."
    )
    async def job(self, info: Info, id: str) -> AsyncGenerator[Job, None]:
        registry = _ctx(info).jobs
        if registry.get(id) is None:
            raise QueryError(f"no job {id!r}: the server does not know it (jobs lists them)")
        async for snapshot in registry.watch(id):
            yield Job.from_snapshot(snapshot)
