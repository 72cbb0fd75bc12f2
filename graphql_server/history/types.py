"""The GraphQL types of gathered bars: a series as columns."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graphql_server.flux import Row
from graphql_server.scalars import BarTimeframe, BigInt
from streamlines.contracts.time import ns_to_datetime

RAW_COLUMNS = ("open", "high", "low", "close", "volume", "vwap", "trade_count")
ADJUSTED_COLUMNS = ("adj_open", "adj_high", "adj_low", "adj_close", "adj_volume", "adj_factor",
                    "dividend", "split_factor")  # fmt: skip


@strawberry.type(
    description="A series as columns: entry i of every list belongs to the bar at time[i]. The "
    "adjusted columns (splits and dividends; Alpaca's adjustment=all) are null unless asked for; "
    "dividend and splitFactor hold null where the source does not say (see docs/gather.md)."
)
class SeriesData:
    time: list[datetime] = strawberry.field(description="Bar start, UTC.")
    t_ns: list[BigInt] = strawberry.field(description="Bar start in UTC nanoseconds.")
    open: list[float | None]
    high: list[float | None]
    low: list[float | None]
    close: list[float | None]
    volume: list[float | None]
    vwap: list[float | None]
    trade_count: list[int | None]
    adj_open: list[float | None] | None = None
    adj_high: list[float | None] | None = None
    adj_low: list[float | None] | None = None
    adj_close: list[float | None] | None = None
    adj_volume: list[float | None] | None = None
    adj_factor: list[float | None] | None = None
    dividend: list[float | None] | None = None
    split_factor: list[float | None] | None = None

    @classmethod
    def from_rows(cls, rows: list[Row], adjusted: bool) -> SeriesData:
        columns: dict[str, list] = {
            name: [row.values.get(name) for row in rows]
            for name in RAW_COLUMNS + (ADJUSTED_COLUMNS if adjusted else ())
        }
        columns["trade_count"] = [None if v is None else int(v) for v in columns["trade_count"]]
        return cls(
            time=[ns_to_datetime(row.t_ns) for row in rows],
            t_ns=[BigInt(row.t_ns) for row in rows],
            **columns,
        )


@strawberry.type(description="The stored bars of one symbol, oldest first.")
class Series:
    symbol: str
    timeframe: BarTimeframe
    adjusted: bool
    data: SeriesData
