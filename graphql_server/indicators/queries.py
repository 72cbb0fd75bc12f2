"""The currents queries: indicators as columns, crossover signals, the volatility ranking."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.column_data import at_times
from graphql_server.context import context
from graphql_server.downsample import Downsample
from graphql_server.downsampled import check_max_points, picked_bars, source_window
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
from streamlines.contracts.influx import MEASUREMENT_CURRENTS
from streamlines.contracts.metrics import indicator_metric
from streamlines.contracts.time import NS_PER_SECOND, datetime_to_ns
from streamlines.settings import Settings

# How far before `at` the ranking looks for the latest round (rounds stop over a weekend when
# only stocks are tracked).
VOLATILITY_LOOKBACK = timedelta(days=7)
MAX_RANKING = 10_000


def check_ranking_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_RANKING:
        raise QueryError(f"limit {limit}: use a number from 1 to {MAX_RANKING}")


async def downsampled_indicators(
    settings: Settings,
    store: IndicatorStore,
    symbol: str,
    names: list[Indicator],
    start: datetime,
    end: datetime | None,
    timeframe: BarTimeframe,
    max_points: int,
    how: Downsample,
) -> list[IndicatorSeries]:
    """Each indicator at the bars ``series(maxPoints, downsample)`` keeps: the bars' closes and
    every indicator read side by side, then the values at the kept bars' times."""
    check_max_points(settings, max_points)
    window = source_window(settings, start, end, timeframe)
    metrics = {name: indicator_metric(name.value, timeframe.value) for name in dict.fromkeys(names)}
    reads = [
        asyncio.to_thread(store.metric_columns, MEASUREMENT_CURRENTS, symbol, metric, window,
                          settings.graphql_max_source_bars + 1)
        for metric in metrics.values()
    ]  # fmt: skip
    (t_ns, _, picked), *found = await asyncio.gather(
        picked_bars(settings, store, symbol, window, timeframe, max_points, how), *reads
    )
    times = t_ns[picked]
    return [
        IndicatorSeries.from_columns(
            symbol,
            name,
            timeframe,
            metric,
            times,
            {field: at_times(column, times) for field, column in columns.items()},
        )
        for (name, metric), columns in zip(metrics.items(), found, strict=True)
    ]


@strawberry.type
class IndicatorsQuery:
    @strawberry.field(
        description="Indicators of a symbol at bars starting in [start, end), one columnar "
        "series per name (computed by the currents job on the price, the adjusted close). At "
        "most STREAMLINES_GRAPHQL_MAX_POINTS bars of the timeframe (up to now) per query. With "
        "maxPoints: the values at the bars `series` with the same arguments keeps (null where "
        "an indicator has none, e.g. while it warms up), from ranges of up to "
        "STREAMLINES_GRAPHQL_MAX_SOURCE_BARS bars, so a chart's overlays line up with its bars."
    )
    async def indicators(
        self,
        info: Info,
        symbol: str,
        names: list[Indicator],
        start: datetime,
        end: datetime | None = None,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
        max_points: int | None = None,
        downsample: Downsample = Downsample.LTTB,
    ) -> list[IndicatorSeries]:
        public_read(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
        if not names:
            raise QueryError("no indicator names: pass some, e.g. names: [SMA, RSI]")
        if max_points is not None:
            return await downsampled_indicators(
                ctx.settings, ctx.get(IndicatorStore), symbol, names, start, end, timeframe,
                max_points, downsample,
            )  # fmt: skip
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
