"""The core live hub and feed, on a record type other than the ripples' (Narwhal's predictions,
keyed by model id), and the currents feed's expansion of the per-bar records; the ripples' hub
is checked in tests/unit/graphql_server/ripples."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from graphql_server.indicators.live import CurrentsHub
from graphql_server.indicators.live import feed as currents_feed
from graphql_server.live import KafkaFeed, LiveHub
from streamlines.contracts.events import AnalyticsRecord, Prediction


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


def test_each_record_reaches_exactly_the_subscriptions_of_its_symbol() -> None:
    """Subscriptions of one symbol, of several and of every symbol: each gets each record it
    asked for once (the hub visits a record's symbol's subscriptions only)."""
    wanted = {"goog": ["GOOG"], "both": ["GOOG", "SPY"], "spy": ["SPY"], "all": None}
    records = [prediction(s, "a", t) for t, s in enumerate(["GOOG", "SPY", "QQQ", "GOOG"], 1)]

    async def scenario() -> dict[str, list[int]]:
        live = hub()
        streams = {name: live.subscribe_batches(symbols) for name, symbols in wanted.items()}
        firsts = {name: asyncio.ensure_future(anext(s)) for name, s in streams.items()}
        await asyncio.sleep(0.01)
        live.publish(records)
        got = {name: [p.t_ns for p in await asyncio.wait_for(f, 1)] for name, f in firsts.items()}
        for stream in streams.values():
            await stream.aclose()
        assert not live.subscriptions
        assert not live._by_symbol  # the index is emptied too
        return got

    expected = {
        name: [p.t_ns for p in records if symbols is None or p.symbol in symbols]
        for name, symbols in wanted.items()
    }
    assert asyncio.run(scenario()) == expected


def test_subscriptions_of_the_same_records_get_the_same_chunks_cut_alike() -> None:
    """What one publish brings the subscriptions of one filter is one tuple for all of them
    (the shared execution keys its results on it), cut in the same pieces at ``max_batch``."""
    records = [prediction("GOOG", "a", t) for t in range(1, 6)]

    async def scenario() -> list[list[tuple]]:
        live = hub()
        streams = [live.subscribe_chunks(["GOOG"], max_batch=2) for _ in range(2)]
        firsts = [asyncio.ensure_future(anext(s)) for s in streams]
        await asyncio.sleep(0.01)
        live.publish(records)
        got = [await asyncio.wait_for(f, 1) for f in firsts]
        got += [await asyncio.wait_for(anext(s), 1) for s in streams for _ in range(2)]
        for stream in streams:
            await stream.aclose()
        return got

    first_a, first_b, *rest = asyncio.run(scenario())
    assert [[p.t_ns for p in chunk] for chunk in first_a] == [[1, 2]]
    assert first_a[0] is first_b[0]
    assert [[p.t_ns for c in batch for p in c] for batch in rest] == [[3, 4], [5]] * 2
    assert rest[0][0] is rest[2][0]


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


def test_the_currents_feed_keeps_a_per_bar_record_as_its_families_records() -> None:
    async def scenario() -> CurrentsHub:
        live = CurrentsHub()
        feed = currents_feed(live, "127.0.0.1:1", "analytics.currents", 10)
        feed._loop = asyncio.get_running_loop()
        per_bar = AnalyticsRecord(symbol="GOOG", t_ns=9, metric="indicators_1Day",
                                  values={"sma.sma_20": 2.0, "rsi.rsi_14": 40.0,
                                          "macd.macd": None})  # fmt: skip
        feed._hand_over([Raw(per_bar.to_wire())], live=True)
        await asyncio.sleep(0.05)
        return live

    live = asyncio.run(scenario())
    assert sorted(live.latest) == [("GOOG", "rsi_1Day"), ("GOOG", "sma_1Day")]
    assert live.latest[("GOOG", "sma_1Day")].values == {"sma_20": 2.0}
