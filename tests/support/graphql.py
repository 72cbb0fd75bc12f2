"""Running the GraphQL schema in-process, with the server's services replaced by fakes (the
real ones: tests/integration and tests/e2e)."""

from __future__ import annotations

import asyncio
from typing import Any

from strawberry.types import ExecutionResult

from graphql_server.context import Context
from graphql_server.flux import Row
from graphql_server.ripples.store import Point
from graphql_server.schema import build_schema
from graphql_server.validation import TimeRange
from streamlines.metadata.accounts import Principal
from streamlines.settings import Settings

T0 = 1_325_601_000_000_000_000  # 2012-01-03T14:30:00Z
DAY = 86_400 * 10**9
DAY_T0 = 1_325_566_800_000_000_000  # 2012-01-03T05:00:00Z, a daily bar's start


# Who the in-process requests act as (the keys themselves: tests/integration).
ALICE = Principal(user_id=1, name="alice", is_admin=False, key_prefix="aaaaaaaaaa")
BOB = Principal(user_id=2, name="bob", is_admin=False, key_prefix="bbbbbbbbbb")
ROOT = Principal(user_id=3, name="root", is_admin=True, key_prefix="rrrrrrrrrr")


def execute(
    query: str,
    services: dict[type, object],
    settings: Settings | None = None,
    principal: Principal | None = ALICE,
    **variables: Any,
) -> ExecutionResult:
    """One query or mutation against a context holding ``services`` (fakes, by the class of
    the service each stands for), as ``principal`` (None: without a key)."""
    context = Context(settings or Settings(), services)
    return asyncio.run(
        build_schema().execute(
            query,
            variable_values=variables,
            context_value={"app": context, "principal": principal},
        )
    )


async def subscribe(
    query: str,
    services: dict[type, object],
    settings: Settings | None = None,
    principal: Principal | None = ALICE,
) -> Any:
    """The stream of a subscription's results (await it in a running event loop)."""
    context = Context(settings or Settings(), services)
    return await build_schema().subscribe(
        query, context_value={"app": context, "principal": principal}
    )


class FakeRows:
    """A fake store of the price store's queries: the ``rows`` it answers with (at most as many
    as asked), and the ``calls`` it had."""

    def __init__(self, rows: list[Row] | None = None) -> None:
        self.rows = rows or []
        self.calls: list[tuple] = []


class FakeRipplesStore:
    """Two symbols; every series is one 1-minute bar, whatever is asked."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def symbols(self) -> list[str]:
        return ["GOOG", "SP500"]

    def series(self, symbol: str, metric: str, window: TimeRange, max_points: int) -> list[Point]:
        self.calls.append((symbol, metric, window.start_ns, window.end_ns, max_points))
        values = {"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 30.0,
                  "vwap": 1.25, "count": 3.0}  # fmt: skip
        return [Point(T0 + 60_000_000_000 + 123, values)]
