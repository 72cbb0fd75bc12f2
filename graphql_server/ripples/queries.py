"""The ripples queries: the symbols stored, bars, and any metric's values over a range."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.context import context
from graphql_server.ripples.store import AnalyticsStore
from graphql_server.ripples.types import Bar, RippleMetric, RipplePoint, Timeframe
from streamlines.contracts.time import NS_PER_MICROSECOND


@strawberry.type
class RipplesQuery:
    @strawberry.field(description="Symbols the analytics store has data for.")
    async def symbols(self, info: Info) -> list[str]:
        public_read(info)
        return await asyncio.to_thread(context(info).get(AnalyticsStore).symbols)

    @strawberry.field(
        description="Bars of one symbol with start <= window start < end, oldest first, at most "
        "`limit` of them (default and maximum: the server's STREAMLINES_GRAPHQL_MAX_POINTS)."
    )
    async def bars(
        self,
        info: Info,
        symbol: str,
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
        limit: int | None = None,
    ) -> list[Bar]:
        public_read(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end, ctx.settings.graphql_max_range_days)
        count = validation.limit(limit, ctx.settings.graphql_max_points)
        # A bar is stored at its window end: shift the range by one width to select by start.
        shifted = validation.TimeRange(
            window.start + _width(timeframe), window.end + _width(timeframe)
        )
        store = ctx.get(AnalyticsStore)
        points = await asyncio.to_thread(store.series, symbol, timeframe.metric, shifted, count)
        return [Bar.from_values(symbol, timeframe, p.t_ns, p.values) for p in points]

    @strawberry.field(
        description="Values of one ripples metric of one symbol with start <= tNs < end, oldest "
        "first, at most `limit` (default and maximum: STREAMLINES_GRAPHQL_MAX_POINTS)."
    )
    async def ripples(
        self,
        info: Info,
        symbol: str,
        metric: RippleMetric,
        start: datetime,
        end: datetime,
        limit: int | None = None,
    ) -> list[RipplePoint]:
        public_read(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end, ctx.settings.graphql_max_range_days)
        count = validation.limit(limit, ctx.settings.graphql_max_points)
        store = ctx.get(AnalyticsStore)
        points = await asyncio.to_thread(store.series, symbol, metric.value, window, count)
        return [RipplePoint.build(symbol, metric.value, p.t_ns, p.values) for p in points]


def _width(timeframe: Timeframe) -> timedelta:
    return timedelta(microseconds=timeframe.width_ns // NS_PER_MICROSECOND)
