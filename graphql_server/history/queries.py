"""The series query: a symbol's gathered bars as columns."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.context import context
from graphql_server.flux import rows_within_limit
from graphql_server.history.store import BarStore
from graphql_server.history.types import Series, SeriesData
from graphql_server.scalars import BarTimeframe


@strawberry.type
class HistoryQuery:
    @strawberry.field(
        description="The stored bars of a symbol starting in [start, end) (no end: all from "
        "start on), as columns. adjusted: also the split/dividend-adjusted columns."
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
        ctx = context(info)
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end or validation.FAR_FUTURE, None)
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
