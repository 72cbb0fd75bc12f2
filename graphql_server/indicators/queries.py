"""The currents queries: indicators as columns, crossover signals, the volatility ranking."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.context import context
from graphql_server.errors import QueryError
from graphql_server.flux import rows_within_limit
from graphql_server.indicators.store import IndicatorStore
from graphql_server.indicators.types import (
    Indicator,
    IndicatorSeries,
    Signal,
    VolatilityMeasure,
    VolatilityRanking,
)
from graphql_server.scalars import BarTimeframe
from streamlines.contracts.metrics import indicator_metric
from streamlines.contracts.time import NS_PER_SECOND, datetime_to_ns

# How far before `at` the ranking looks for the latest round (rounds stop over a weekend when
# only stocks are tracked).
VOLATILITY_LOOKBACK = timedelta(days=7)
MAX_RANKING = 10_000


def check_ranking_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_RANKING:
        raise QueryError(f"limit {limit}: use a number from 1 to {MAX_RANKING}")


@strawberry.type
class IndicatorsQuery:
    @strawberry.field(
        description="Indicators of a symbol at bars starting in [start, end), one columnar "
        "series per name (computed by the currents job on the price, the adjusted close). At "
        "most STREAMLINES_GRAPHQL_MAX_POINTS bars of the timeframe (up to now) per query."
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
        public_read(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
        if not names:
            raise QueryError("no indicator names: pass some, e.g. names: [SMA, RSI]")
        window = validation.bar_range(start, end, timeframe, ctx.settings.graphql_max_points)
        store = ctx.get(IndicatorStore)
        result = []
        for name in dict.fromkeys(names):
            metric = indicator_metric(name.value, timeframe.value)
            rows = await rows_within_limit(
                ctx.settings.graphql_max_points, f"{name.value} values", store.indicator, symbol,
                metric, window,
            )  # fmt: skip
            result.append(IndicatorSeries.from_rows(symbol, name, timeframe, metric, rows))
        return result

    @strawberry.field(
        description="Moving-average crossover signals of these symbols at bars starting in "
        "[start, end) (no end: all from start on), oldest first: each flip, and the first "
        "known state of each pair. At most STREAMLINES_GRAPHQL_MAX_POINTS bars of the "
        "timeframe (up to now) per query."
    )
    async def signals(
        self,
        info: Info,
        symbols: list[str],
        start: datetime,
        end: datetime | None = None,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
    ) -> list[Signal]:
        public_read(info)
        ctx = context(info)
        wanted = validation.symbols(symbols)
        window = validation.bar_range(start, end, timeframe, ctx.settings.graphql_max_points)
        rows = await rows_within_limit(
            ctx.settings.graphql_max_points, "signals", ctx.get(IndicatorStore).signals, wanted,
            timeframe.value, window,
        )  # fmt: skip
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
        public_read(info)
        check_ranking_limit(limit)
        lookback = int(VOLATILITY_LOOKBACK.total_seconds()) * NS_PER_SECOND
        store = context(info).get(IndicatorStore)
        found = await asyncio.to_thread(store.volatility_round, datetime_to_ns(at), lookback)
        if found is None:
            return None
        t_ns, rows = found
        return VolatilityRanking.build(t_ns, rows, by, limit)
