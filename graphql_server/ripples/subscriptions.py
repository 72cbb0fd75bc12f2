"""The live ripples subscriptions, one update per message or in batches, each update executed
once per selection for all its subscribers (``graphql_server.fanout``)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.context import service
from graphql_server.errors import QueryError
from graphql_server.fanout import shared, shared_batch
from graphql_server.ripples.live import LiveHub, SubscriberTooSlow
from graphql_server.ripples.types import RippleBatch, RippleMetric, RipplePoint

MAX_BATCH = 5_000


@strawberry.type
class RipplesSubscription:
    @strawberry.subscription(
        description="Live ripples of these symbols (all metrics, or those in `metrics`): first "
        "the latest value the server has of each, then every update as the job publishes it."
    )
    async def ripples(
        self, info: Info, symbols: list[str], metrics: list[RippleMetric] | None = None
    ) -> AsyncGenerator[RipplePoint, None]:
        public_read(info)
        wanted = validation.symbols(symbols)
        names = None if metrics is None else [m.value for m in metrics]
        try:
            async for record in service(info, LiveHub).subscribe(wanted, names):
                yield shared(record, RipplePoint.from_record)
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
        public_read(info)
        wanted = validation.symbols(symbols)
        if not 1 <= max_batch <= MAX_BATCH:
            raise QueryError(f"maxBatch {max_batch}: use a number from 1 to {MAX_BATCH}")
        names = None if metrics is None else [m.value for m in metrics]
        try:
            hub = service(info, LiveHub)
            async for chunks in hub.subscribe_chunks(wanted, names, max_batch):
                yield shared_batch(chunks, RippleBatch.from_records)
        except SubscriberTooSlow as exc:
            raise QueryError(str(exc)) from None
