"""The beacons queries: a symbol's valuation as columns, its corporate events, an event study."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.beacons.store import BeaconStore
from graphql_server.beacons.types import (
    CorporateEvent,
    EventKind,
    EventStudy,
    EventWindow,
    Valuation,
    ValuationData,
    study_metric,
)
from graphql_server.context import context
from graphql_server.errors import QueryError
from graphql_server.flux import rows_within_limit
from graphql_server.scalars import BarTimeframe

# The beacons job writes one record per trading day: ranges are limited as daily bars are.
DAILY = BarTimeframe.DAY_1


@strawberry.type
class BeaconsQuery:
    @strawberry.field(
        description="Valuation ratios of a symbol (computed by the beacons job from daily "
        "closes and fundamentals) for sessions starting in [start, end) (no end: all from start "
        "on), as columns. At most STREAMLINES_GRAPHQL_MAX_POINTS days (up to now) per query."
    )
    async def valuation(
        self, info: Info, symbol: str, start: datetime, end: datetime | None = None
    ) -> Valuation:
        public_read(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
        window = validation.bar_range(start, end, DAILY, ctx.settings.graphql_max_points)
        rows = await rows_within_limit(
            ctx.settings.graphql_max_points, "valuation days", ctx.get(BeaconStore).valuation,
            symbol, window,
        )  # fmt: skip
        return Valuation(symbol=symbol, data=ValuationData.from_rows(rows))

    @strawberry.field(
        description="Corporate events of a symbol (all kinds, or those in `kinds`) whose day 0 "
        "starts in [start, end) (no end: all from start on), oldest first, with the stock's "
        "and the index's moves over each window. At most STREAMLINES_GRAPHQL_MAX_POINTS days "
        "(up to now) per query."
    )
    async def events(
        self,
        info: Info,
        symbol: str,
        start: datetime,
        end: datetime | None = None,
        kinds: list[EventKind] | None = None,
    ) -> list[CorporateEvent]:
        public_read(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
        if kinds is not None and not kinds:
            raise QueryError(
                "no event kinds: pass some, e.g. kinds: [EARNINGS], or leave kinds out for all"
            )
        metrics = [k.metric for k in dict.fromkeys(kinds or EventKind)]
        window = validation.bar_range(start, end, DAILY, ctx.settings.graphql_max_points)
        rows = await rows_within_limit(
            ctx.settings.graphql_max_points, "events", ctx.get(BeaconStore).events, symbol,
            metrics, window,
        )  # fmt: skip
        return [CorporateEvent.from_row(row) for row in rows]

    @strawberry.field(
        description="The latest event study of a symbol's events of one kind over one window "
        "(null when there is none yet); history: true adds the study as of each earlier event."
    )
    async def event_study(
        self,
        info: Info,
        symbol: str,
        kind: EventKind,
        window: EventWindow,
        history: bool = False,
    ) -> EventStudy | None:
        public_read(info)
        ctx = context(info)
        symbol = validation.symbol(symbol)
        store = ctx.get(BeaconStore)
        metric = study_metric(kind, window)
        if history:
            max_points = ctx.settings.graphql_max_points
            rows = await rows_within_limit(
                max_points, "event studies", store.latest, symbol, metric
            )
        else:
            rows = await asyncio.to_thread(store.latest, symbol, metric, 1)
        return EventStudy.from_rows(symbol, kind, window, rows, history)
