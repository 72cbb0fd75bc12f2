"""The GraphQL types of the ripples: bars, metric values, batches of live values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from graphql_server.scalars import BigInt
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.metrics import (
    METRIC_BAR_1M,
    METRIC_BAR_1S,
    METRIC_ROLLING,
    METRIC_SPREAD,
)
from streamlines.contracts.time import NS_PER_SECOND, ns_to_datetime


@strawberry.enum(description="What the ripples job computes per symbol.")
class RippleMetric(Enum):
    BAR_1S = METRIC_BAR_1S
    BAR_1M = METRIC_BAR_1M
    ROLLING_5M = METRIC_ROLLING
    SPREAD = METRIC_SPREAD


@strawberry.enum(description="Bar width.")
class Timeframe(Enum):
    SECOND_1 = "1Sec"
    MINUTE_1 = "1Min"

    @property
    def metric(self) -> str:
        return {Timeframe.SECOND_1: METRIC_BAR_1S, Timeframe.MINUTE_1: METRIC_BAR_1M}[self]

    @property
    def width_ns(self) -> int:
        return {Timeframe.SECOND_1: 1, Timeframe.MINUTE_1: 60}[self] * NS_PER_SECOND


@strawberry.type(description="An OHLCV bar the ripples job built from trades.")
class Bar:
    symbol: str
    timeframe: Timeframe
    start: datetime = strawberry.field(description="Window start (inclusive), UTC.")
    end: datetime = strawberry.field(description="Window end (exclusive), UTC.")
    t_ns: BigInt = strawberry.field(description="Window end in UTC nanoseconds (the key).")
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: float | None
    vwap: float | None = strawberry.field(description="sum(price * size) / sum(size).")
    trade_count: int | None

    @classmethod
    def from_values(
        cls, symbol: str, timeframe: Timeframe, t_ns: int, values: Mapping[str, float | None]
    ) -> Bar:
        count = values.get("count")
        return cls(
            symbol=symbol,
            timeframe=timeframe,
            start=ns_to_datetime(t_ns - timeframe.width_ns),
            end=ns_to_datetime(t_ns),
            t_ns=BigInt(t_ns),
            open=values.get("open"),
            high=values.get("high"),
            low=values.get("low"),
            close=values.get("close"),
            volume=values.get("volume"),
            vwap=values.get("vwap"),
            trade_count=None if count is None else int(count),
        )


@strawberry.type(description="One value of a ripples metric: a bar, rolling statistics or spread.")
class RipplePoint:
    symbol: str
    metric: RippleMetric
    t_ns: BigInt = strawberry.field(
        description="UTC nanoseconds: a bar's window end, or the trade's event time."
    )
    time: datetime = strawberry.field(description="t_ns as a UTC time (to the microsecond).")
    values: JSON = strawberry.field(
        description="Every field of the metric, e.g. {open, high, low, close, volume, vwap, "
        "count} of a bar, {price_mean, price_std, ...} of rolling_5m, {bid, ask, spread, mid}."
    )

    @strawberry.field(description="One field of `values`; null when the metric lacks it.")
    def value(self, name: str) -> float | None:
        return cast("dict[str, float | None]", self.values).get(name)

    @classmethod
    def build(cls, symbol: str, metric: str, t_ns: int, values: dict[str, Any]) -> RipplePoint:
        return cls(
            symbol=symbol,
            metric=RippleMetric(metric),
            t_ns=BigInt(t_ns),
            time=ns_to_datetime(t_ns),
            values=JSON(values),
        )

    @classmethod
    def from_record(cls, record: AnalyticsRecord) -> RipplePoint:
        return cls.build(record.symbol, record.metric, record.t_ns, dict(record.values))


@strawberry.type(description="Live ripples that arrived together.")
class RippleBatch:
    points: list[RipplePoint]

    @classmethod
    def from_records(cls, records: Sequence[AnalyticsRecord]) -> RippleBatch:
        return cls(points=[RipplePoint.from_record(r) for r in records])
