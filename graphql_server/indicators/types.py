"""The GraphQL types of the currents job's results: indicator series, crossover signals and the
volatility ranking."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import numpy as np
import numpy.typing as npt
import strawberry
from strawberry.scalars import JSON

from graphql_server.flux import Row
from graphql_server.scalars import BarTimeframe, BigInt
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.metrics import CROSSOVER_PREFIX, indicator_metric
from streamlines.contracts.time import ns_to_datetime


@strawberry.enum(description="Indicators of the currents job (periods: the job's options).")
class Indicator(Enum):
    SMA = "sma"
    EMA = "ema"
    RSI = "rsi"
    BOLLINGER = "bollinger"
    MACD = "macd"


@strawberry.type(
    description="One indicator of one symbol as columns: values maps each field (sma_20, "
    "sma_50, ... or middle, upper, lower, std; macd, signal, histogram; rsi_14) to its list, "
    "null while the indicator warms up."
)
class IndicatorSeries:
    symbol: str
    name: Indicator
    timeframe: BarTimeframe
    metric: str = strawberry.field(description="The stored metric, e.g. sma_1Day.")
    time: list[datetime] = strawberry.field(description="The bar's start, UTC.")
    t_ns: list[BigInt]
    values: JSON

    @classmethod
    def from_columns(
        cls,
        symbol: str,
        name: Indicator,
        timeframe: BarTimeframe,
        metric: str,
        t_ns: npt.NDArray[np.int64],
        columns: dict[str, npt.NDArray[np.float64]],
    ) -> IndicatorSeries:
        """At the bars ``t_ns``; NaN (no value at a bar) is null."""
        return cls(
            symbol=symbol,
            name=name,
            timeframe=timeframe,
            metric=metric,
            time=[ns_to_datetime(int(t)) for t in t_ns],
            t_ns=[BigInt(int(t)) for t in t_ns],
            values=JSON({
                field: [None if np.isnan(v) else float(v) for v in columns[field]]
                for field in sorted(columns)
            }),
        )  # fmt: skip

    @classmethod
    def from_rows(
        cls, symbol: str, name: Indicator, timeframe: BarTimeframe, metric: str, rows: list[Row]
    ) -> IndicatorSeries:
        fields = sorted({k for row in rows for k in row.values})
        return cls(
            symbol=symbol,
            name=name,
            timeframe=timeframe,
            metric=metric,
            time=[ns_to_datetime(row.t_ns) for row in rows],
            t_ns=[BigInt(row.t_ns) for row in rows],
            values=JSON({field: [row.values.get(field) for row in rows] for field in fields}),
        )


@strawberry.type(
    description="One bar's values of one indicator, live: values maps each field (sma_20, ...) "
    "to its value, null while the indicator warms up."
)
class IndicatorPoint:
    symbol: str
    name: Indicator
    timeframe: BarTimeframe
    metric: str = strawberry.field(description="The stored metric, e.g. sma_1Min.")
    time: datetime = strawberry.field(description="The bar's start, UTC.")
    t_ns: BigInt
    values: JSON

    @classmethod
    def from_record(
        cls, record: AnalyticsRecord, name: Indicator, timeframe: BarTimeframe
    ) -> IndicatorPoint:
        return cls(
            symbol=record.symbol,
            name=name,
            timeframe=timeframe,
            metric=record.metric,
            time=ns_to_datetime(record.t_ns),
            t_ns=BigInt(record.t_ns),
            values=JSON(dict(record.values)),
        )


def crossover_timeframe(metric: str) -> BarTimeframe | None:
    """The timeframe a crossover metric (``cross_<pair>_<timeframe>``) ends in; None when the
    metric is not a crossover of a known timeframe."""
    if not metric.startswith(CROSSOVER_PREFIX):
        return None
    try:
        return BarTimeframe(metric.rpartition("_")[2])
    except ValueError:
        return None


@strawberry.enum
class SignalDirection(Enum):
    BULLISH = "bullish"  # the fast average above the slow one
    BEARISH = "bearish"


@strawberry.type(
    description="A moving-average crossover state: where it was first known (flipped false) or "
    "where it flipped (flipped true), at the bar's time; fast and slow are the two averages "
    "there (the currents job writes them with each state)."
)
class Signal:
    symbol: str
    name: str = strawberry.field(description="The pair, e.g. sma50_sma200 or ema12_ema26.")
    timeframe: BarTimeframe
    time: datetime
    t_ns: BigInt
    direction: SignalDirection
    flipped: bool
    fast: float | None
    slow: float | None

    @classmethod
    def from_row(cls, row: Row, timeframe: BarTimeframe) -> Signal:
        # the metric is indicator_metric(crossover_name(...), timeframe): keep the pair's name
        suffix = indicator_metric("", timeframe.value)
        name = row.metric.removeprefix(CROSSOVER_PREFIX).removesuffix(suffix)
        return cls(
            symbol=row.symbol,
            name=name,
            timeframe=timeframe,
            time=ns_to_datetime(row.t_ns),
            t_ns=BigInt(row.t_ns),
            direction=SignalDirection.BULLISH
            if float(row.values.get("signal", 0)) > 0
            else SignalDirection.BEARISH,
            flipped=bool(row.values.get("cross")),
            fast=row.values.get("fast"),
            slow=row.values.get("slow"),
        )

    @classmethod
    def from_record(cls, record: AnalyticsRecord, timeframe: BarTimeframe) -> Signal:
        row = Row(
            t_ns=record.t_ns,
            symbol=record.symbol,
            values={k: v for k, v in record.values.items() if v is not None},
            metric=record.metric,
        )
        return cls.from_row(row, timeframe)


@strawberry.enum(description="What the volatility ranking sorts by.")
class VolatilityMeasure(Enum):
    REL_STD = "rel_std"  # std / mean: comparable across price levels
    STD = "std"


@strawberry.type
class VolatilityEntry:
    rank: int
    symbol: str
    std: float | None = strawberry.field(
        description="Sample standard deviation of the symbol's 1-minute closes in the 24 hours "
        "before updatedAt (null with one bar)."
    )
    rel_std: float | None = strawberry.field(description="std / mean.")
    mean: float | None
    count: int = strawberry.field(description="1-minute bars in the 24 hours.")


@strawberry.type(
    description="Every symbol of one volatility round, most volatile first; all share the "
    "round's updatedAt (bars starting in [updatedAt - 24 h, updatedAt))."
)
class VolatilityRanking:
    updated_at: datetime
    t_ns: BigInt
    by: VolatilityMeasure
    symbols: int = strawberry.field(description="Symbols in the round (before `limit`).")
    entries: list[VolatilityEntry]

    @classmethod
    def build(
        cls, t_ns: int, rows: list[Row], by: VolatilityMeasure, limit: int
    ) -> VolatilityRanking:
        def key(row: Row) -> tuple[bool, float, str]:
            value = row.values.get(by.value)
            return (value is None, -(value or 0.0), row.symbol)

        ordered = sorted(rows, key=key)
        entries = [
            VolatilityEntry(
                rank=k + 1,
                symbol=row.symbol,
                std=row.values.get("std"),
                rel_std=row.values.get("rel_std"),
                mean=row.values.get("mean"),
                count=int(row.values.get("count", 0)),
            )
            for k, row in enumerate(ordered[:limit])
        ]
        return cls(
            updated_at=ns_to_datetime(t_ns),
            t_ns=BigInt(t_ns),
            by=by,
            symbols=len(rows),
            entries=entries,
        )
