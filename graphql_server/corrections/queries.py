"""The audit query: who deleted which bars, when and why."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.context import service
from graphql_server.corrections.store import CorrectionsStore
from graphql_server.corrections.types import BarDeletion

MAX_DELETIONS = 10_000


@strawberry.type
class CorrectionsQuery:
    @strawberry.field(description="The audit of deleted bars, newest first.")
    async def bar_deletions(
        self, info: Info, symbol: str | None = None, limit: int = 100
    ) -> list[BarDeletion]:
        wanted = None if symbol is None else validation.symbol(symbol)
        store = service(info, CorrectionsStore)
        rows = await asyncio.to_thread(store.deletions, wanted, max(1, min(limit, MAX_DELETIONS)))
        return [BarDeletion.from_row(row) for row in rows]
