"""The server's limits on a real server process (and the real stack's Kafka for subscriptions):
the rate limit per key and per address, over HTTP and websockets; at most N open subscriptions
per key, given back when a client goes away; the limit on running jobs; GraphiQL off in the
production profile; requests refused before any GraphQL still answered as GraphQL errors."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphql_server.client import GraphQLClientError, post, subscribe
from streamlines.child import graphql_server_process
from tests.support.metadata import Keys

# A symbol no test writes: its subscription stays open, waiting, without sending anything.
QUIET = 'subscription { ripples(symbols: ["ZZQUIET"]) { tNs } }'
OWN_SECRETS = {
    "STREAMLINES_INFLUX_PASSWORD": "not-the-default-1",
    "STREAMLINES_INFLUX_TOKEN": "not-the-default-2",
    "STREAMLINES_POSTGRES_PASSWORD": "not-the-default-3",
}


def server(keys: Keys, tmp_path: Path, **settings: str) -> Iterator[str]:
    env = {"STREAMLINES_DATABASE_URL": keys.url, **settings}
    with graphql_server_process(env, log_path=tmp_path / "graphql.log") as url:
        yield url


@pytest.fixture
def rate_limited(stack, sqlite_keys: Keys, tmp_path: Path) -> Iterator[str]:
    yield from server(sqlite_keys, tmp_path, STREAMLINES_GRAPHQL_RATE_LIMIT_PER_MINUTE="5")


@pytest.fixture
def one_subscription(stack, sqlite_keys: Keys, tmp_path: Path) -> Iterator[str]:
    yield from server(sqlite_keys, tmp_path, STREAMLINES_GRAPHQL_MAX_SUBSCRIPTIONS="1",
                      STREAMLINES_GRAPHQL_MAX_RUNNING_JOBS="0")  # fmt: skip


@pytest.fixture
def production(stack, sqlite_keys: Keys, tmp_path: Path) -> Iterator[str]:
    yield from server(sqlite_keys, tmp_path, STREAMLINES_PROFILE="production", **OWN_SECRETS)


async def first_answer(url: str, api_key: str | None, wait: float = 1.5) -> str | None:
    """The error a subscription gets at once; None when it is open and waiting."""
    stream = subscribe(url, QUIET, api_key=api_key)
    try:
        await asyncio.wait_for(anext(stream), wait)
    except GraphQLClientError as exc:
        return str(exc)
    except TimeoutError:
        return None
    finally:
        await stream.aclose()
    return "data"


def test_a_key_over_its_rate_waits_while_other_keys_and_addresses_go_on(rate_limited, sqlite_keys):
    url, alice = rate_limited, sqlite_keys.alice
    assert [post(url, "{ __typename }", api_key=alice)[0] for _ in range(5)] == [200] * 5
    request = urllib.request.Request(
        url, data=json.dumps({"query": "{ __typename }"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {alice}"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 429
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 12
    (error,) = json.loads(refused.value.read())["errors"]
    prefix = alice.split("_")[1]
    assert error["message"].startswith(
        f"rate limit of 5 requests a minute reached for key {prefix}…: retry in "
    )
    assert error["extensions"]["code"] == "RATE_LIMITED"
    # a subscription is an operation too
    message = asyncio.run(first_answer(url, alice))
    assert message is not None
    assert message.startswith("rate limit of 5 requests"), message
    # bob's key and the keyless client (by address) have buckets of their own
    assert post(url, "{ __typename }", api_key=sqlite_keys.bob)[0] == 200
    assert post(url, "{ __typename }") == (200, {"data": {"__typename": "Query"}})


def test_one_subscription_too_many_is_refused_until_the_open_one_goes_away(
    one_subscription, sqlite_keys
):
    url = one_subscription

    async def scenario() -> list[str | None]:
        seen = []
        opened = subscribe(url, QUIET, api_key=sqlite_keys.alice)
        waiting = asyncio.ensure_future(anext(opened))
        await asyncio.sleep(1.0)
        assert not waiting.done()
        seen.append(await first_answer(url, sqlite_keys.alice))
        seen.append(await first_answer(url, sqlite_keys.bob))  # bob has a slot of his own
        waiting.cancel()  # alice's client goes away: her websocket closes
        await asyncio.gather(waiting, return_exceptions=True)
        await opened.aclose()
        for _ in range(20):  # the server notices the closed socket at once, or nearly
            answer = await first_answer(url, sqlite_keys.alice)
            if answer is None:
                break
        seen.append(answer)
        return seen

    refused, bobs, after = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert refused is not None
    assert refused.startswith(f"key {sqlite_keys.alice.split('_')[1]}… already has 1 subscriptions")
    assert (bobs, after) == (None, None)


def test_jobs_beyond_a_users_limit_are_refused_before_they_start(one_subscription, sqlite_keys):
    status, answer = post(
        one_subscription,
        'mutation { backfill(symbols: ["GOOG"], start: "2012-01-03", end: "2012-01-04") { id } }',
        api_key=sqlite_keys.alice,
    )
    assert status == 200
    (error,) = answer["errors"]
    assert (
        "runs no jobs for its users (STREAMLINES_GRAPHQL_MAX_RUNNING_JOBS is 0)"
        in (error["message"])
    )
    assert error["extensions"] == {"code": "TOO_MANY_JOBS"}
    jobs = post(one_subscription, "{ jobs { id } }", api_key=sqlite_keys.alice)[1]
    assert jobs == {"data": {"jobs": []}}


def test_the_production_profile_serves_no_graphiql_and_no_data_without_a_key(
    production, sqlite_keys
):
    request = urllib.request.Request(production, headers={"Accept": "text/html"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 404
    assert refused.value.headers["Content-Type"] == "application/json"  # no page
    (error,) = json.loads(refused.value.read())["errors"]
    assert error["message"].startswith("GraphiQL is off on this server")
    answer = post(production, "{ symbols }")[1]
    assert answer["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert post(production, "{ __typename }", api_key=sqlite_keys.alice)[1] == {
        "data": {"__typename": "Query"}
    }


def test_requests_refused_before_any_graphql_get_a_graphql_error(production):
    request = urllib.request.Request(
        production, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    answer = json.loads(refused.value.read())
    assert answer["data"] is None
    (error,) = answer["errors"]
    assert error["message"].startswith("the request body is not JSON in UTF-8")
    assert '{"query": "{ symbols }"' in error["message"]  # says what to send instead
    answer = post(production, "{ symbols(")[1]
    assert answer["errors"][0]["message"].startswith("Syntax Error")
    assert "Traceback" not in json.dumps(answer)
