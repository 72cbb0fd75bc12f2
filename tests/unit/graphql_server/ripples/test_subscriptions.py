"""The live ripples subscriptions on a hub fed in-process (the real feed: tests/integration)."""

import asyncio

from graphql_server.ripples.live import LiveHub
from graphql_server.ripples.store import AnalyticsStore
from streamlines.contracts.events import AnalyticsRecord
from streamlines.settings import Settings
from tests.support.graphql import T0, FakeRipplesStore, subscribe


def test_subscription_sends_the_latest_value_then_updates():
    async def scenario():
        hub = LiveHub()
        hub.publish([AnalyticsRecord(symbol="GOOG", metric="spread", t_ns=T0, values={"mid": 2})])
        stream = await subscribe(
            'subscription { ripples(symbols: ["GOOG"]) '
            '{ symbol metric tNs mid: value(name: "mid") } }',
            {AnalyticsStore: FakeRipplesStore(), LiveHub: hub},
        )
        first = await asyncio.wait_for(anext(stream), 2)
        hub.publish([AnalyticsRecord(symbol="GOOG", metric="bar_1s", t_ns=T0 + 1, values={})])
        second = await asyncio.wait_for(anext(stream), 2)
        await stream.aclose()
        return first, second

    first, second = asyncio.run(scenario())
    assert first.data["ripples"] == {
        "symbol": "GOOG",
        "metric": "SPREAD",
        "tNs": str(T0),
        "mid": 2.0,
    }
    assert second.data["ripples"]["metric"] == "BAR_1S"


def test_batched_subscription_drains_what_arrived_without_waiting():
    async def scenario():
        hub = LiveHub()
        hub.publish([AnalyticsRecord(symbol="GOOG", metric="spread", t_ns=T0, values={"mid": 2})])
        stream = await subscribe(
            'subscription { ripplesBatches(symbols: ["GOOG"], maxBatch: 2) { points { tNs } } }',
            {AnalyticsStore: FakeRipplesStore(), LiveHub: hub},
        )
        first = await asyncio.wait_for(anext(stream), 2)
        hub.publish(
            [
                AnalyticsRecord(symbol="GOOG", metric="bar_1s", t_ns=T0 + i, values={})
                for i in (1, 2, 3)
            ]
        )
        second = await asyncio.wait_for(anext(stream), 2)
        third = await asyncio.wait_for(anext(stream), 2)
        await stream.aclose()
        return [
            [p["tNs"] for p in r.data["ripplesBatches"]["points"]] for r in (first, second, third)
        ]

    assert asyncio.run(scenario()) == [[str(T0)], [str(T0 + 1), str(T0 + 2)], [str(T0 + 3)]]


def test_batch_size_is_checked():
    async def scenario():
        stream = await subscribe(
            'subscription { ripplesBatches(symbols: ["GOOG"], maxBatch: 0) { points { tNs } } }',
            {AnalyticsStore: FakeRipplesStore(), LiveHub: LiveHub()},
        )
        result = await asyncio.wait_for(anext(stream), 2)
        return result.errors[0].message

    assert "maxBatch 0: use a number from 1 to 5000" in asyncio.run(scenario())


def test_without_a_key_private_ripples_are_refused():
    async def first_error(public: bool) -> object:
        stream = await subscribe(
            'subscription { ripples(symbols: ["GOOG"]) { tNs } }',
            {AnalyticsStore: FakeRipplesStore(), LiveHub: LiveHub()},
            Settings(graphql_public_data=public),
            principal=None,
        )
        try:
            result = await asyncio.wait_for(anext(stream), 0.5)
        except TimeoutError:
            return None  # open, waiting for data
        finally:
            await stream.aclose()
        return result.errors[0].extensions

    assert asyncio.run(first_error(False)) == {"code": "UNAUTHENTICATED"}
    assert asyncio.run(first_error(True)) is None
