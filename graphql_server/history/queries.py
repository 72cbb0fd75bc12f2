"""The series query: a symbol's gathered bars as columns."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.context import context
from graphql_server.flux import rows_within_limit
from graphql_server.history.store import BarStore
from graphql_server.history.types import Series, SeriesData
from graphql_server.scalars import BarTimeframe


@strawberry.type
class HistoryQuery:
    @strawberry.field(
        description="The stored bars of a symbol starting in [start, end) (no end: all from "
        "start on), as columns. adjusted: also the split/dividend-adjusted columns. At most "
        "STREAMLINES_GRAPHQL_MAX_POINTS bars of the timeframe (up to now) per query."
    )
    async def series(
        self,
        info: Info,
        symbol: str,
        start: datetime,
        end: datetime | None = None,
        adjusted: bool = False,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
    ) -> Series:
        public_read(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
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
        )
