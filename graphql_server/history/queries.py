"""The series query: a symbol's gathered bars as columns, downsampled on request."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.context import context
from graphql_server.downsample import Downsample
from graphql_server.downsampled import check_max_points, picked_bars, source_window
from graphql_server.flux import rows_within_limit
from graphql_server.history.store import BarStore
from graphql_server.history.types import ADJUSTED_COLUMNS, RAW_COLUMNS, Series, SeriesData
from graphql_server.scalars import BarTimeframe
from streamlines.settings import Settings


@strawberry.type
class HistoryQuery:
    @strawberry.field(
        description="The stored bars of a symbol starting in [start, end) (no end: all from "
        "start on), as columns. adjusted: also the split/dividend-adjusted columns. At most "
        "STREAMLINES_GRAPHQL_MAX_POINTS bars of the timeframe (up to now) per query. With "
        "maxPoints: at most that many bars, picked by `downsample` from the bars of the range "
        "(up to STREAMLINES_GRAPHQL_MAX_SOURCE_BARS of them, so a year of 1-minute bars is one "
        "query); maxPoints itself goes up to STREAMLINES_GRAPHQL_MAX_POINTS."
    )
    async def series(
        self,
        info: Info,
        symbol: str,
        start: datetime,
        end: datetime | None = None,
        adjusted: bool = False,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
        max_points: int | None = None,
        downsample: Downsample = Downsample.LTTB,
    ) -> Series:
        public_read(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
        if max_points is not None:
            return await downsampled_series(
                ctx.settings, ctx.get(BarStore), symbol, start, end, adjusted, timeframe,
                max_points, downsample,
            )  # fmt: skip
        window = validation.bar_range(start, end, timeframe, ctx.settings.graphql_max_points)
        rows = await rows_within_limit(
            ctx.settings.graphql_max_points, "bars", ctx.get(BarStore).bars, symbol,
            timeframe.value, window,
        )  # fmt: skip
        return Series(
            symbol=symbol,
            timeframe=timeframe,
            adjusted=adjusted,
            data=SeriesData.from_rows(rows, adjusted),
            source_points=len(rows),
            downsampled=False,
        )


async def downsampled_series(
    settings: Settings,
    store: BarStore,
    symbol: str,
    start: datetime,
    end: datetime | None,
    adjusted: bool,
    timeframe: BarTimeframe,
    max_points: int,
    how: Downsample,
) -> Series:
    """Every bar of the range read as columns (one query per field, side by side), then at most
    ``max_points`` of them picked by ``how``: whole bars, all their columns."""
    fields = RAW_COLUMNS + (ADJUSTED_COLUMNS if adjusted else ())
    check_max_points(settings, max_points)
    window = source_window(settings, start, end, timeframe)
    t_ns, columns, picked = await picked_bars(
        settings, store, symbol, window, timeframe, max_points, how, fields
    )
    return Series(
        symbol=symbol,
        timeframe=timeframe,
        adjusted=adjusted,
        data=SeriesData.from_columns(t_ns[picked], {k: v[picked] for k, v in columns.items()}),
        source_points=len(t_ns),
        downsampled=len(picked) < len(t_ns),
    )
