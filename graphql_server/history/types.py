"""The GraphQL types of gathered bars: a series as columns."""

from __future__ import annotations

from datetime import datetime

import numpy as np
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
    def from_columns(cls, t_ns: np.ndarray, columns: dict[str, np.ndarray]) -> SeriesData:
        """From NumPy columns (NaN: null); the columns not given (the adjusted ones unless
        asked for) are null."""
        lists: dict[str, list] = {
            name: [None if np.isnan(v) else v for v in values.tolist()]
            for name, values in columns.items()
        }
        if "trade_count" in lists:
            lists["trade_count"] = [None if v is None else int(v) for v in lists["trade_count"]]
        times = t_ns.tolist()
        return cls(
            time=[ns_to_datetime(t) for t in times],
            t_ns=[BigInt(t) for t in times],
            **{name: lists.get(name, [None] * len(times)) for name in RAW_COLUMNS},
            **{name: lists[name] for name in ADJUSTED_COLUMNS if name in lists},
        )

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
    source_points: int = strawberry.field(
        description="Bars in the range before downsampling (without maxPoints: those returned)."
    )
    downsampled: bool = strawberry.field(
        description="Whether data holds fewer bars than sourcePoints (maxPoints was smaller)."
    )
