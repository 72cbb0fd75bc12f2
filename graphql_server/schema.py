"""The GraphQL schema: queries on InfluxDB, subscriptions on the ripples topic, and the price
store's queries, mutations and job updates (``graphql_server.price_schema``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info

from graphql_server import validation
from graphql_server.errors import QueryError
from graphql_server.live import LiveHub, SubscriberTooSlow
from graphql_server.operations.jobs import JobRegistry
from graphql_server.price_schema import PriceMutation, PriceQuery, PriceSubscription
from graphql_server.price_store import PriceStore
from graphql_server.store import AnalyticsStore
from graphql_server.types import SCALARS, Bar, RippleMetric, RipplePoint, Timeframe
from streamlines.settings import Settings

log = logging.getLogger(__name__)

MAX_QUERY_DEPTH = 8


@dataclass
class Context:
    settings: Settings
    store: AnalyticsStore
    hub: LiveHub
    prices: PriceStore = None  # type: ignore[assignment]  # set by create_app; fakes in tests
    jobs: JobRegistry = field(default_factory=JobRegistry)


def _context(info: Info) -> Context:
    return info.context["app"]


@strawberry.type
class Query(PriceQuery):
    @strawberry.field(description="Symbols the analytics store has data for.")
    async def symbols(self, info: Info) -> list[str]:
        return await asyncio.to_thread(_context(info).store.symbols)

    @strawberry.field(
        description="Bars of one symbol with start <= window start < end, oldest first, at most "
        "`limit` of them (default and maximum: the server's STREAMLINES_GRAPHQL_MAX_POINTS)."
    )
    async def bars(
        self,
        info: Info,
        symbol: str,
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
        limit: int | None = None,
    ) -> list[Bar]:
        ctx = _context(info)
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end, ctx.settings.graphql_max_range_days)
        count = validation.limit(limit, ctx.settings.graphql_max_points)
        # A bar is stored at its window end: shift the range by one width to select by start.
        shifted = validation.TimeRange(
            window.start + _width(timeframe), window.end + _width(timeframe)
        )
        points = await asyncio.to_thread(ctx.store.series, symbol, timeframe.metric, shifted, count)
        return [Bar.from_values(symbol, timeframe, p.t_ns, p.values) for p in points]

    @strawberry.field(
        description="Values of one ripples metric of one symbol with start <= tNs < end, oldest "
        "first, at most `limit` (default and maximum: STREAMLINES_GRAPHQL_MAX_POINTS)."
    )
    async def ripples(
        self,
        info: Info,
        symbol: str,
        metric: RippleMetric,
        start: datetime,
        end: datetime,
        limit: int | None = None,
    ) -> list[RipplePoint]:
        ctx = _context(info)
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end, ctx.settings.graphql_max_range_days)
        count = validation.limit(limit, ctx.settings.graphql_max_points)
        points = await asyncio.to_thread(ctx.store.series, symbol, metric.value, window, count)
        return [RipplePoint.build(symbol, metric.value, p.t_ns, p.values) for p in points]


def _width(timeframe: Timeframe) -> timedelta:
    return timedelta(microseconds=timeframe.width_ns // 1_000)


MAX_BATCH = 5_000


@strawberry.type(description="Live ripples that arrived together.")
class RippleBatch:
    points: list[RipplePoint]


@strawberry.type
class Mutation(PriceMutation):
    pass


@strawberry.type
class Subscription(PriceSubscription):
    @strawberry.subscription(
        description="Live ripples of these symbols (all metrics, or those in `metrics`): first "
        "the latest value the server has of each, then every update as the job publishes it."
    )
    async def ripples(
        self, info: Info, symbols: list[str], metrics: list[RippleMetric] | None = None
    ) -> AsyncGenerator[RipplePoint, None]:
        wanted = validation.symbols(symbols)
        names = None if metrics is None else [m.value for m in metrics]
        try:
            async for record in _context(info).hub.subscribe(wanted, names):
                yield RipplePoint.from_record(record)
        except SubscriberTooSlow as exc:
            raise QueryError(str(exc)) from None

    @strawberry.subscription(
        description="As `ripples`, in batches, for high-rate consumers: each message carries "
        "every update that arrived since the previous one (at most `maxBatch`), without "
        "waiting for more, so batching adds no delay; the first carries the latest values."
    )
    async def ripples_batches(
        self,
        info: Info,
        symbols: list[str],
        metrics: list[RippleMetric] | None = None,
        max_batch: int = 1000,
    ) -> AsyncGenerator[RippleBatch, None]:
        wanted = validation.symbols(symbols)
        if not 1 <= max_batch <= MAX_BATCH:
            raise QueryError(f"maxBatch {max_batch}: use a number from 1 to {MAX_BATCH}")
        names = None if metrics is None else [m.value for m in metrics]
        try:
            async for batch in _context(info).hub.subscribe_batches(wanted, names, max_batch):
                yield RippleBatch(points=[RipplePoint.from_record(r) for r in batch])
        except SubscriberTooSlow as exc:
            raise QueryError(str(exc)) from None


def _is_internal(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, QueryError)


class StreamlinesSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if _is_internal(error):
                log.error("internal error: %s", error.message, exc_info=error.original_error)
            else:
                log.info("request error: %s", error.message)


def build_schema() -> strawberry.Schema:
    return StreamlinesSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            lambda: QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH),
            lambda: MaskErrors(
                should_mask_error=_is_internal,
                error_message="internal server error: see the GraphQL server's log",
            ),
        ],
    )
