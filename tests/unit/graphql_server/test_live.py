"""The core live hub and feed, on a record type other than the ripples' (Narwhal's predictions,
keyed by model id); the ripples' hub is checked in tests/unit/graphql_server/ripples."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from graphql_server.live import KafkaFeed, LiveHub
from streamlines.contracts.events import Prediction


def prediction(symbol: str, model: str, t_ns: int, value: float = 0.5) -> Prediction:
    return Prediction(symbol=symbol, t_ns=t_ns, model_id=model, timeframe="1Day", horizon=5,
                      value=value)  # fmt: skip


def hub() -> LiveHub[Prediction]:
    return LiveHub(lambda p: p.model_id)


def test_the_latest_is_kept_per_symbol_and_part_and_parts_filter() -> None:
    async def scenario() -> tuple[list[Prediction], list[Prediction]]:
        live = hub()
        first_values = [prediction("GOOG", "a", 2), prediction("GOOG", "a", 1),
                        prediction("GOOG", "b", 3), prediction("SPY", "a", 4)]  # fmt: skip
        live.publish(first_values, live=False)
        assert live.latest[("GOOG", "a")].t_ns == 2
        everything = live.subscribe(["GOOG"])
        only_b = live.subscribe(["GOOG"], ["b"])
        first = [await asyncio.wait_for(anext(everything), 1) for _ in range(2)]
        b_first = await asyncio.wait_for(anext(only_b), 1)
        live.publish([prediction("GOOG", "a", 5), prediction("GOOG", "b", 6)])
        update = await asyncio.wait_for(anext(only_b), 1)
        await everything.aclose()
        await only_b.aclose()
        assert not live.subscriptions
        return first, [b_first, update]

    first, only_b = asyncio.run(scenario())
    assert [(p.model_id, p.t_ns) for p in first] == [("a", 2), ("b", 3)]
    assert [(p.model_id, p.t_ns) for p in only_b] == [("b", 3), ("b", 6)]


@dataclass
class Raw:
    value: bytes


def test_the_feed_parses_its_record_type_and_counts_what_does_not_fit() -> None:
    async def scenario() -> LiveHub[Prediction]:
        live = hub()
        feed = KafkaFeed(live, "127.0.0.1:1", "analytics.predictions", 10, Prediction)
        feed._loop = asyncio.get_running_loop()
        good = prediction("GOOG", "m", 7, 0.75)
        feed._hand_over([Raw(good.to_wire()), Raw(b'{"symbol": "GOOG"}')], live=False)
        await asyncio.sleep(0.05)  # the hand-over runs on the loop
        return live

    live = asyncio.run(scenario())
    assert live.latest[("GOOG", "m")].value == 0.75
    assert (live.counters.received, live.counters.rejected) == (1, 1)
