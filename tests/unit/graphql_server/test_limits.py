"""The per-client limits (rate, open subscriptions) and the per-document ones (tokens, aliases,
cost), in-process on the real schema with the limits' state in the context (the real server:
tests/integration/graphql_server/test_limits.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from starlette.responses import Response
from strawberry.types import ExecutionResult

from graphql_server.context import Context
from graphql_server.limits import MAX_TOKENS, client_of, job_slots_error
from graphql_server.rate_limit import RateLimiter
from graphql_server.ripples.live import LiveHub
from graphql_server.ripples.store import AnalyticsStore
from graphql_server.schema import build_schema
from graphql_server.subscription_slots import SubscriptionSlots
from streamlines.metadata.accounts import Accounts, Principal
from streamlines.settings import Settings
from tests.support.graphql import ALICE, BOB, FakeRipplesStore, execute, subscribe


def first_error(result: ExecutionResult) -> str:
    assert result.errors, result
    return result.errors[0].message


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_client_over_its_rate_is_told_when_to_retry_and_others_are_not_held_up():
    clock = Clock()
    services: dict[type, object] = {RateLimiter: RateLimiter(2, clock)}
    assert [execute("{ __typename }", services).errors for _ in range(2)] == [None, None]
    refused = execute("{ __typename }", services)
    assert refused.data is None
    (error,) = refused.errors or []
    assert error.message == (
        "rate limit of 2 requests a minute reached for key aaaaaaaaaa…: retry in 30.0 s"
    )
    assert error.extensions == {"code": "RATE_LIMITED", "retryAfter": 30.0}
    assert execute("{ __typename }", services, principal=BOB).errors is None
    clock.now += 30
    assert execute("{ __typename }", services).errors is None


def test_over_http_the_refusal_is_a_429_with_retry_after():
    services: dict[type, object] = {RateLimiter: RateLimiter(1, Clock())}

    async def twice() -> Response:
        response = Response()
        for _ in range(2):
            context = {"app": Context(Settings(), services), "principal": ALICE,
                       "response": response}  # fmt: skip
            await build_schema().execute("{ __typename }", context_value=context)
        return response

    response = asyncio.run(twice())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"


def ripples(services: dict[type, object]) -> Any:
    return subscribe('subscription { ripples(symbols: ["GOOG"]) { tNs } }', services)


def test_subscriptions_take_a_token_too():
    services = {RateLimiter: RateLimiter(1, Clock()), LiveHub: LiveHub(),
                AnalyticsStore: FakeRipplesStore()}  # fmt: skip
    assert execute("{ __typename }", services).errors is None

    async def scenario() -> str:
        stream = await ripples(services)
        return (await asyncio.wait_for(anext(stream), 2)).errors[0].message

    assert asyncio.run(scenario()).startswith("rate limit of 1 requests a minute reached")


def test_one_subscription_too_many_is_refused_and_ended_ones_give_their_slot_back():
    slots = SubscriptionSlots(1)
    services = {SubscriptionSlots: slots, LiveHub: LiveHub(), AnalyticsStore: FakeRipplesStore()}

    async def scenario() -> list[str]:
        seen = []
        first = await ripples(services)
        reader = asyncio.create_task(anext(first))  # waits: the hub has nothing yet
        await asyncio.sleep(0.05)
        assert slots.open("key:aaaaaaaaaa") == 1
        second = await ripples(services)
        seen.append((await asyncio.wait_for(anext(second), 2)).errors[0].message)
        await second.aclose()
        # bob has slots of his own
        bobs = await subscribe('subscription { ripples(symbols: ["GOOG"]) { tNs } }', services,
                               principal=BOB)  # fmt: skip
        bob_reader = asyncio.create_task(anext(bobs))
        await asyncio.sleep(0.05)
        seen.append(str(slots.total))
        # the client goes away: its reading task is cancelled, as a dropped connection does
        reader.cancel()
        bob_reader.cancel()
        await asyncio.gather(reader, bob_reader, return_exceptions=True)
        seen.append(str(slots.total))
        # a subscription that fails ends and gives its slot back too
        failing = await subscribe(
            'subscription { ripplesBatches(symbols: ["GOOG"], maxBatch: 0) { points { tNs } } }',
            services,
        )
        seen.append((await asyncio.wait_for(anext(failing), 2)).errors[0].message)
        await failing.aclose()
        seen.append(str(slots.total))
        return seen

    refused, both, after_cancel, failed, after_failure = asyncio.run(scenario())
    assert refused.startswith("key aaaaaaaaaa… already has 1 subscriptions open")
    assert "STREAMLINES_GRAPHQL_MAX_SUBSCRIPTIONS" in refused
    assert (both, after_cancel) == ("2", "0")
    assert failed.startswith("maxBatch 0")
    assert after_failure == "0"


def test_too_many_aliases_tokens_or_cost_are_refused_before_anything_runs():
    store = FakeRipplesStore()
    services: dict[type, object] = {AnalyticsStore: store}
    settings = Settings(graphql_max_aliases=3, graphql_max_query_cost=1_000)
    aliases = "{ " + " ".join(f"s{i}: symbols" for i in range(4)) + " }"
    assert first_error(execute(aliases, services, settings)) == (
        "4 aliases in one document; the server allows 3 (STREAMLINES_GRAPHQL_MAX_ALIASES): "
        "split it into several requests"
    )
    tokens = "{ " + "symbols " * MAX_TOKENS + "}"
    assert "more than 2000 tokens" in first_error(execute(tokens, services, settings))
    costly = """{ bars(symbol: "GOOG", timeframe: MINUTE_1, start: "2012-01-03T14:30:00Z",
                       end: "2012-01-03T15:30:00Z", limit: 400) { tNs open close } }"""
    message = first_error(execute(costly, services, settings))
    assert message.startswith("query cost 1,201 is over the server's limit of 1,000"), message
    assert store.calls == []


def test_the_cost_limit_counts_the_limit_asked_for():
    settings = Settings(graphql_max_query_cost=1_000)
    query = """query($n: Int) { bars(symbol: "GOOG", timeframe: MINUTE_1,
                 start: "2012-01-03T14:30:00Z", end: "2012-01-03T15:30:00Z", limit: $n) {
                 tNs open close } }"""
    services: dict[type, object] = {AnalyticsStore: FakeRipplesStore()}
    assert execute(query, services, settings, n=333).errors is None  # 1 + 333 x 3
    (error,) = execute(query, services, settings, n=334).errors or []
    assert error.message == (
        "query cost 1,003 is over the server's limit of 1,000: ask for fewer fields or a "
        "smaller limit (each field costs 1, a list of objects its limit, else 100, times its "
        "fields; STREAMLINES_GRAPHQL_MAX_QUERY_COST)"
    )


def test_a_user_with_the_most_jobs_is_told_to_wait_for_one():
    assert job_slots_error(1, 2) is None
    error = job_slots_error(2, 2)
    assert error is not None
    assert str(error).startswith("2 jobs running; retry when one finishes (see `jobs`)")
    assert error.extensions == {"code": "TOO_MANY_JOBS"}
    assert "runs no jobs for its users" in str(job_slots_error(0, 0))


class FakeAccounts:
    def authenticate(self, token: str) -> Principal | None:
        return ALICE if token == "good" else None


def request(headers: dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(headers=headers, client=SimpleNamespace(host="10.1.2.3"))


def test_a_client_is_its_valid_key_else_its_address():
    app = Context(Settings(), {Accounts: FakeAccounts()})
    good: dict[str, Any] = {"app": app, "request": request({"authorization": "Bearer good"})}
    assert client_of(good).id == "key:aaaaaaaaaa"
    assert good["principal"] == ALICE  # kept for the resolvers of this HTTP request
    for headers in ({"authorization": "Bearer bad"}, {}):
        context = {"app": app, "request": request(headers)}
        assert client_of(context).label == "address 10.1.2.3"
    websocket: dict[str, Any] = {"app": app, "request": request({}),
                                 "connection_params": {"token": "good"}}  # fmt: skip
    assert client_of(websocket).id == "key:aaaaaaaaaa"
    assert "principal" not in websocket  # a connection's context outlives a key's revocation
