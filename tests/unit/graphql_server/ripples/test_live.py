import asyncio

import pytest

from graphql_server.ripples.live import LiveHub, SubscriberTooSlow
from streamlines.contracts.events import AnalyticsRecord


def record(symbol: str, metric: str, t_ns: int, value: float = 1.0) -> AnalyticsRecord:
    return AnalyticsRecord(symbol=symbol, metric=metric, t_ns=t_ns, values={"x": value})


async def take(agen, n: int) -> list[AnalyticsRecord]:
    return [await asyncio.wait_for(anext(agen), 1) for _ in range(n)]


def test_a_subscription_gets_the_latest_values_first_then_matching_updates():
    async def scenario():
        hub = LiveHub()
        hub.publish(
            [record("GOOG", "bar_1s", 1), record("GOOG", "bar_1s", 2), record("SPX", "bar_1s", 1)],
            live=False,
        )
        hub.publish([record("GOOG", "spread", 3)])
        sub = hub.subscribe(["GOOG"])
        first = await take(sub, 2)
        assert [(r.metric, r.t_ns) for r in first] == [("bar_1s", 2), ("spread", 3)]
        hub.publish([record("SPX", "bar_1s", 4), record("GOOG", "bar_1m", 5)])
        (update,) = await take(sub, 1)
        assert (update.symbol, update.metric, update.t_ns) == ("GOOG", "bar_1m", 5)
        await sub.aclose()
        assert not hub.subscriptions

    asyncio.run(scenario())


def test_metrics_filter_and_an_older_repeat_does_not_replace_the_latest():
    async def scenario():
        hub = LiveHub()
        hub.publish([record("GOOG", "bar_1s", 10), record("GOOG", "bar_1s", 5)])
        assert hub.latest[("GOOG", "bar_1s")].t_ns == 10
        sub = hub.subscribe(["GOOG"], ["spread"])
        hub.publish([record("GOOG", "bar_1s", 11), record("GOOG", "spread", 12)])
        (only,) = await take(sub, 1)
        assert only.metric == "spread"
        await sub.aclose()

    asyncio.run(scenario())


def test_a_client_that_falls_behind_is_ended_with_a_clear_error():
    async def scenario():
        hub = LiveHub(queue_size=3)
        sub = hub.subscribe(["GOOG"])
        waiting = asyncio.ensure_future(anext(sub))
        await asyncio.sleep(0)
        hub.publish([record("GOOG", "bar_1s", t) for t in range(1, 10)])
        assert (await waiting).t_ns == 1
        assert hub.counters.dropped_subscribers == 1
        # what was queued is still delivered, then the error
        assert [r.t_ns for r in await take(sub, 2)] == [2, 3]
        with pytest.raises(SubscriberTooSlow, match="more than 3 updates"):
            await anext(sub)

    asyncio.run(scenario())


def test_closing_the_hub_ends_subscriptions():
    async def scenario():
        hub = LiveHub()
        sub = hub.subscribe(["GOOG"])
        waiting = asyncio.ensure_future(anext(sub))
        await asyncio.sleep(0)
        hub.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(waiting, 1)

    asyncio.run(scenario())
