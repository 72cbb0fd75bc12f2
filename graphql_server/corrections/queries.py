"""The audit query: who deleted which bars, when and why (any key may read it)."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import require_key
from graphql_server.context import service
from graphql_server.corrections.types import BarDeletion
from streamlines.metadata.audit import DeletionAudit

MAX_DELETIONS = 10_000


@strawberry.type
class CorrectionsQuery:
    @strawberry.field(description="The audit of deleted bars, newest first.")
    async def bar_deletions(
        self, info: Info, symbol: str | None = None, limit: int = 100
    ) -> list[BarDeletion]:
        require_key(info)
        wanted = None if symbol is None else validation.symbol(symbol)
        audit = service(info, DeletionAudit)
        records = await asyncio.to_thread(audit.recent, max(1, min(limit, MAX_DELETIONS)), wanted)
        return [BarDeletion.from_record(record) for record in records]
