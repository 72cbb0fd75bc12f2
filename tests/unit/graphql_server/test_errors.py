"""Internal errors reach the client masked; the log has them."""

import asyncio
import logging
from collections.abc import AsyncGenerator

import pytest
import strawberry
from cross_web import HTTPException

from graphql_server.errors import (
    INTERNAL_ERROR_MESSAGE,
    LoggedErrorsSchema,
    QueryError,
    decode_request_body,
    is_internal,
)
from graphql_server.ripples.live import LiveHub
from graphql_server.ripples.store import AnalyticsStore
from streamlines.settings import Settings
from tests.support.graphql import FakeRipplesStore, execute


def run(query: str, store: FakeRipplesStore | None = None, **variables):
    services = {AnalyticsStore: store or FakeRipplesStore(), LiveHub: LiveHub()}
    return execute(query, services, Settings(graphql_max_range_days=2), **variables)


def test_an_internal_failure_is_masked_for_the_client():
    class Broken(FakeRipplesStore):
        def symbols(self) -> list[str]:
            raise RuntimeError("secret connection string")

    result = run("{ symbols }", Broken())
    assert result.errors[0].message.startswith("internal server error")


@strawberry.type
class _Query:
    ok: bool = True


@strawberry.type
class _Subscription:
    @strawberry.subscription
    async def ticks(self, fail_with: str) -> AsyncGenerator[int, None]:
        yield 1
        if fail_with == "query":
            raise QueryError("ask for fewer ticks")
        raise RuntimeError("secret connection string")


def subscription_results(fail_with: str) -> list[strawberry.types.ExecutionResult]:
    schema = LoggedErrorsSchema(query=_Query, subscription=_Subscription)

    async def collect() -> list:
        stream = await schema.subscribe(f'subscription {{ ticks(failWith: "{fail_with}") }}')
        return [result async for result in stream]

    return asyncio.run(collect())


def test_an_internal_failure_in_a_subscription_is_masked_for_the_client_and_logged(caplog):
    with caplog.at_level(logging.ERROR, logger="graphql_server.errors"):
        first, failed = subscription_results("internal")
    assert first.data == {"ticks": 1}
    assert [e.message for e in failed.errors or ()] == [INTERNAL_ERROR_MESSAGE]
    assert "secret connection string" in caplog.text  # the log has it, the client not


def test_a_query_error_in_a_subscription_reaches_the_client_as_it_is():
    _, failed = subscription_results("query")
    assert [e.message for e in failed.errors or ()] == ["ask for fewer ticks"]


RIPPLES = """query($m: RippleMetric!, $a: DateTime!) {
  ripples(symbol: "GOOG", metric: $m, start: $a, end: "2012-01-04T00:00:00Z") { tNs } }"""


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"m": "NOPE", "a": "2012-01-03T00:00:00Z"},
            "Value 'NOPE' does not exist in 'RippleMetric'",
        ),
        ({"m": "BAR_1M", "a": "yesterday"}, 'Value cannot represent a DateTime: "yesterday"'),
        ({"m": "BAR_1M", "a": None}, "non-null type 'DateTime!' not to be None"),
    ],
)
def test_a_refused_variable_is_the_clients_error_not_an_internal_one(variables, message):
    result = run(RIPPLES, **variables)
    assert result.data is None
    (error,) = result.errors
    assert error.message.startswith("Variable '$")
    assert message in error.message
    assert not is_internal(error)


def test_a_value_the_server_cannot_serialize_stays_internal():
    class Huge(FakeRipplesStore):
        def symbols(self) -> list[str]:
            return [object()]  # type: ignore[list-item]

    result = run("{ symbols }", Huge())
    assert result.errors[0].message.startswith("internal server error")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"null", "not a JSON object"),
        (b"5", "not a JSON object"),
        (b"{", "not JSON"),
        (b'{"query": "\xff"}', "not JSON"),  # not UTF-8
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),  # deeper than the decoder recurses
    ],
)
def test_a_request_body_that_is_not_a_json_object_is_a_400(body: bytes, reason: str):
    with pytest.raises(HTTPException) as refused:
        decode_request_body(body)
    assert refused.value.status_code == 400
    assert reason in refused.value.reason
    assert '{"query": ' in refused.value.reason


def test_a_json_object_or_batch_is_decoded():
    assert decode_request_body(b'{"query": "{ symbols }"}') == {"query": "{ symbols }"}
    assert decode_request_body("[]") == []
