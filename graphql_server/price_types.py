"""The GraphQL types of the price store: gathered series, indicators, signals, the volatility
ranking, jobs and the audit of deleted bars."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from graphql_server.operations.delete_bars import Deletion
from graphql_server.operations.jobs import JobSnapshot, JobState
from graphql_server.price_store import Row
from graphql_server.types import BigInt, ns_to_datetime


@strawberry.enum(description="Bar length of gathered history.")
class BarTimeframe(Enum):
    DAY_1 = "1Day"
    HOUR_1 = "1Hour"
    MINUTE_1 = "1Min"


RAW_COLUMNS = ("open", "high", "low", "close", "volume", "vwap", "trade_count")
ADJUSTED_COLUMNS = ("adj_open", "adj_high", "adj_low", "adj_close", "adj_volume", "adj_factor",
                    "dividend", "split_factor")  # fmt: skip


@strawberry.type(
    description="A series as columns: entry i of every list belongs to the bar at date[i]. The "
    "adjusted columns (splits and dividends; Alpaca's adjustment=all) are null unless asked for; "
    "dividend and splitFactor hold null where the source does not say (see docs/gather.md)."
)
class SeriesData:
    date: list[datetime] = strawberry.field(description="Bar start, UTC.")
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
            date=[ns_to_datetime(row.t_ns) for row in rows],
            t_ns=[BigInt(row.t_ns) for row in rows],
            **columns,
        )


@strawberry.type(description="The stored bars of one ticker, oldest first.")
class Series:
    ticker: str
    timeframe: BarTimeframe
    adjusted: bool
    data: SeriesData


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
            values={field: [row.values.get(field) for row in rows] for field in fields},
        )


@strawberry.enum
class SignalDirection(Enum):
    BULLISH = "bullish"  # the fast average above the slow one
    BEARISH = "bearish"


@strawberry.type(
    description="A moving-average crossover state: where it was first known (flipped false) or "
    "where it flipped (flipped true), at the bar's time."
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
        name = row.metric.removeprefix("cross_").removesuffix(f"_{timeframe.value}")
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


@strawberry.enum
class JobStatus(Enum):
    QUEUED = JobState.QUEUED.value
    RUNNING = JobState.RUNNING.value
    SUCCEEDED = JobState.SUCCEEDED.value
    PARTIAL = JobState.PARTIAL.value  # some symbols failed, the others were written
    FAILED = JobState.FAILED.value


@strawberry.type(description="A long operation the server runs (backfill, append, recompute).")
class Job:
    id: str
    kind: str
    status: JobStatus
    description: str
    phase: str = strawberry.field(description="What it is doing now.")
    done: int = strawberry.field(description="Units done: symbols, or steps of a recompute.")
    total: int
    items: int = strawberry.field(description="Bars gathered, or records recomputed, so far.")
    errors: list[str]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: JSON = strawberry.field(description="Counts once finished (bars, points, ...).")

    @strawberry.field(description="done / total, from 0 to 1 (null before the total is known).")
    def progress(self) -> float | None:
        return self.done / self.total if self.total else None

    @classmethod
    def from_snapshot(cls, job: JobSnapshot) -> Job:
        return cls(
            id=job.id,
            kind=job.kind,
            status=JobStatus(job.state.value),
            description=job.description,
            phase=job.phase,
            done=job.done,
            total=job.total,
            items=job.items,
            errors=list(job.errors),
            created_at=_seconds(job.created_at),
            started_at=None if job.started_at is None else _seconds(job.started_at),
            finished_at=None if job.finished_at is None else _seconds(job.finished_at),
            result=json.loads(json.dumps(job.result)),
        )


def _seconds(t: float) -> datetime:
    return ns_to_datetime(int(t * 1_000_000_000))


@strawberry.type(description="Who deleted which bars, when and why (the audit record).")
class BarDeletion:
    symbol: str
    timeframe: str
    start: datetime = strawberry.field(description="First deleted bar start (inclusive).")
    end: datetime = strawberry.field(description="Exclusive end of the deleted range.")
    who: str
    reason: str
    deleted: int = strawberry.field(description="Bars deleted.")
    at: datetime = strawberry.field(description="When.")
    recompute_job: str

    @classmethod
    def from_deletion(cls, d: Deletion) -> BarDeletion:
        return cls(
            symbol=d.symbol,
            timeframe=d.timeframe,
            start=d.window.start,
            end=d.window.end,
            who=d.who,
            reason=d.reason,
            deleted=d.deleted,
            at=ns_to_datetime(d.at_ns),
            recompute_job=d.recompute_job,
        )

    @classmethod
    def from_row(cls, row: Row) -> BarDeletion:
        v = row.values
        return cls(
            symbol=row.symbol,
            timeframe=row.timeframe,
            start=ns_to_datetime(int(v.get("start_ns", 0))),
            end=ns_to_datetime(int(v.get("end_ns", 0))),
            who=str(v.get("who", "")),
            reason=str(v.get("reason", "")),
            deleted=int(v.get("deleted", 0)),
            at=ns_to_datetime(row.t_ns),
            recompute_job=str(v.get("recompute_job", "")),
        )


@strawberry.type
class DeleteBarsResult:
    deletion: BarDeletion
    recompute: Job = strawberry.field(
        description="The job recomputing the indicators that depended on the deleted bars."
    )
