"""Live updates executed once per selection (graphql_server.fanout), through the schema's
subscriptions on an in-process hub: the results are those of executing per subscriber."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import pytest
import strawberry

from graphql_server.context import Context
from graphql_server.fanout import (
    EncodedData,
    FanoutExecutor,
    SharedResults,
    encode_message,
    shared,
)
from graphql_server.ripples.live import LiveHub
from graphql_server.ripples.types import RippleBatch, RipplePoint
from graphql_server.schema import build_schema
from streamlines.contracts.events import AnalyticsRecord
from streamlines.settings import Settings
from tests.support.graphql import ALICE, T0, subscribe

SYMBOLS = ["GOOG", "SP500"]


def spread(symbol: str, i: int) -> AnalyticsRecord:
    return AnalyticsRecord(
        symbol=symbol, metric="spread", t_ns=T0 + i, values={"mid": 100.0 + i, "spread": 0.01 * i}
    )


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[AnalyticsRecord]:
    """Every record a RipplePoint was built from (once per execution of a selection)."""
    calls: list[AnalyticsRecord] = []
    original = RipplePoint.from_record

    def counted(record: AnalyticsRecord) -> RipplePoint:
        calls.append(record)
        return original(record)

    monkeypatch.setattr(RipplePoint, "from_record", counted)
    return calls


async def collect(
    documents: list[str], services: dict[type, object], hub: LiveHub, records: list, each: int
) -> list[list[Any]]:
    """Open a subscription per document, publish ``records``, read ``each`` results of each."""
    streams = [await subscribe(d, services) for d in documents]
    pending = [asyncio.ensure_future(anext(s)) for s in streams]
    await asyncio.sleep(0.05)  # every subscription is on the hub
    hub.publish(records)
    results: list[list[Any]] = []
    for stream, first in zip(streams, pending, strict=True):
        got = [await asyncio.wait_for(first, 2)]
        got += [await asyncio.wait_for(anext(stream), 2) for _ in range(each - 1)]
        results.append(got)
        await stream.aclose()
    return results


def test_subscribers_of_one_selection_share_one_execution_per_record(built):
    hub = LiveHub()
    shared_results = SharedResults()
    services: dict[type, object] = {LiveHub: hub, SharedResults: shared_results}
    # Ten subscribers, each of its own symbols: the same selection.
    documents = [
        f'subscription {{ ripples(symbols: ["{SYMBOLS[i % 2]}"]) '
        '{ symbol tNs mid: value(name: "mid") } }'
        for i in range(10)
    ]
    records = [spread(SYMBOLS[i % 2], i) for i in range(6)]
    results = asyncio.run(collect(documents, services, hub, records, 3))

    assert len(built) == len(records)  # not 10 subscribers x 3 records each
    assert shared_results.counters.executed == 6
    assert shared_results.counters.reused == 10 * 3 - 6
    for i, got in enumerate(results):
        expected = [r for r in records if r.symbol == SYMBOLS[i % 2]]
        assert [g.data["ripples"] for g in got] == [
            {"symbol": r.symbol, "tNs": str(r.t_ns), "mid": r.values["mid"]} for r in expected
        ]
        assert all(g.errors is None for g in got)


def test_each_selection_and_variable_value_gets_its_own_result(built):
    hub = LiveHub()
    services: dict[type, object] = {LiveHub: hub, SharedResults: SharedResults()}
    by_variable = 'subscription($n: String!) { ripples(symbols: ["GOOG"]) { v: value(name: $n) } }'
    documents = [
        'subscription { ripples(symbols: ["GOOG"]) { symbol tNs } }',
        'subscription { ripples(symbols: ["GOOG"]) { time metric } }',
        'subscription { r: ripples(symbols: ["GOOG"]) { symbol tNs } }',
    ]
    records = [spread("GOOG", 1)]

    async def scenario() -> list[dict]:
        found = [g[0].data for g in await collect(documents, services, hub, records, 1)]
        streams = []
        for name in ("mid", "spread"):
            stream = await build_schema_subscribe(by_variable, services, {"n": name})
            streams.append(stream)
        pending = [asyncio.ensure_future(anext(s)) for s in streams]
        await asyncio.sleep(0.05)
        # the latest value comes first: the record published above
        for stream, first in zip(streams, pending, strict=True):
            found.append((await asyncio.wait_for(first, 2)).data)
            await stream.aclose()
        return found

    found = asyncio.run(scenario())
    t = str(T0 + 1)
    assert found == [
        {"ripples": {"symbol": "GOOG", "tNs": t}},
        {"ripples": {"time": "2012-01-03T14:30:00+00:00", "metric": "SPREAD"}},
        {"r": {"symbol": "GOOG", "tNs": t}},
        {"ripples": {"v": 101.0}},
        {"ripples": {"v": 0.01}},
    ]
    assert len(built) == 5  # one execution per selection


async def build_schema_subscribe(
    document: str, services: dict[type, object], variables: dict[str, Any]
) -> Any:
    context = {"app": Context(Settings(), services), "principal": ALICE}
    return await build_schema().subscribe(
        document, variable_values=variables, context_value=context
    )


def test_shared_results_equal_those_executed_per_subscriber():
    document = (
        'subscription { ripples(symbols: ["GOOG", "SP500"]) { symbol metric tNs time values '
        'mid: value(name: "mid") __typename } }'
    )
    records = [spread(SYMBOLS[i % 2], i) for i in range(4)]

    def run(services: Callable[[LiveHub], dict[type, object]]) -> list[Any]:
        hub = LiveHub()
        got = asyncio.run(collect([document, document], services(hub), hub, records, 4))
        return [[g.data for g in results] for results in got]

    alone = run(lambda hub: {LiveHub: hub})
    together = run(lambda hub: {LiveHub: hub, SharedResults: SharedResults()})
    assert together == alone
    # and their JSON too: what the websocket sends
    hub = LiveHub()
    got = asyncio.run(collect([document], {LiveHub: hub, SharedResults: SharedResults()},
                              hub, records, 4))  # fmt: skip
    for result, data in zip(got[0], alone[0], strict=True):
        assert isinstance(result.data, EncodedData)
        assert json.loads(result.data.json) == data


BATCH_FIELDS = '{ __typename points { tNs mid: value(name: "mid") } }'


def batch_data(chunk: list[AnalyticsRecord]) -> dict:
    points = [{"tNs": str(r.t_ns), "mid": r.values["mid"]} for r in chunk]
    return {"ripplesBatches": {"__typename": "RippleBatch", "points": points}}


def test_batches_are_executed_once_per_chunk_and_selection(built):
    hub = LiveHub()
    shared_results = SharedResults()
    services: dict[type, object] = {LiveHub: hub, SharedResults: shared_results}
    documents = [
        f'subscription {{ ripplesBatches(symbols: ["GOOG"], maxBatch: {n}) {BATCH_FIELDS} }}'
        for n in (2, 2, 3)
    ]
    records = [spread("GOOG", i) for i in range(6)]
    results = asyncio.run(collect(documents, services, hub, records, 2))

    for got in results[:2]:
        assert [r.data for r in got] == [batch_data(records[0:2]), batch_data(records[2:4])]
    assert [r.data for r in results[2]] == [batch_data(records[0:3]), batch_data(records[3:6])]
    for result in results[0] + results[1] + results[2]:
        assert json.loads(result.data.json) == result.data
    # the two maxBatch 2 subscribers share the pieces (0, 1) and (2, 3); maxBatch 3 cuts its own
    assert len(built) == 4 + 6


@pytest.fixture
def batches_built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every RippleBatch built (once per execution of a batch's selection)."""
    sizes: list[int] = []
    original = RippleBatch.from_records

    def counted(records: Sequence[AnalyticsRecord]) -> RippleBatch:
        sizes.append(len(records))
        return original(records)

    monkeypatch.setattr(RippleBatch, "from_records", counted)
    return sizes


def test_a_batch_of_several_chunks_joins_their_results(built, batches_built):
    """The chunks nobody executed yet are executed together, once (a subscriber reading
    records one by one as they were published would cost an execution each), and kept per
    chunk for the others."""
    hub = LiveHub()
    services: dict[type, object] = {LiveHub: hub, SharedResults: SharedResults()}
    records = [spread("GOOG", i) for i in range(5)]

    async def scenario() -> list[Any]:
        document = f'subscription {{ ripplesBatches(symbols: ["GOOG"]) {BATCH_FIELDS} }}'
        streams = [await subscribe(document, services) for _ in range(2)]
        firsts = [asyncio.ensure_future(anext(s)) for s in streams]
        await asyncio.sleep(0.05)
        for start, end in ((0, 2), (2, 3), (3, 5)):  # three publishes before anyone reads
            hub.publish(records[start:end])
        got = [await asyncio.wait_for(f, 2) for f in firsts]
        for stream in streams:
            await stream.aclose()
        return got

    for result in asyncio.run(scenario()):
        assert result.data == batch_data(records)
        assert json.loads(result.data.json) == result.data
    assert len(built) == 5  # three chunks, each executed once for both
    assert batches_built == [5]  # in one execution


def test_a_subscriber_too_slow_still_gets_the_error():
    hub = LiveHub(queue_size=2)
    services: dict[type, object] = {LiveHub: hub, SharedResults: SharedResults()}

    async def scenario() -> list[Any]:
        stream = await subscribe('subscription { ripples(symbols: ["GOOG"]) { tNs } }', services)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        hub.publish([spread("GOOG", i) for i in range(5)])
        got = [await asyncio.wait_for(first, 2)]
        got += [await asyncio.wait_for(anext(stream), 2) for _ in range(2)]
        await stream.aclose()
        return got

    got = asyncio.run(scenario())
    assert [g.data["ripples"]["tNs"] for g in got[:2]] == [str(T0), str(T0 + 1)]
    assert got[2].data is None
    assert "more than 2 updates were waiting for this client" in got[2].errors[0].message


def test_the_message_around_encoded_data_is_the_json_of_the_message():
    data = EncodedData({"ripples": {"symbol": "GOOG", "values": {"mid": 1.5, "x": None}}})
    for message in (
        {"id": '7"q', "type": "next", "payload": {"data": data}},
        {"type": "data", "id": "1", "payload": {"data": data}},
    ):
        encoded = encode_message(message)
        assert json.loads(encoded) == json.loads(json.dumps(message))
    # anything else is encoded as it is
    other = {"id": "1", "type": "next", "payload": {"data": data, "errors": [{"message": "x"}]}}
    assert json.loads(encode_message(other)) == json.loads(json.dumps(other))


# A schema of the tests' own: a field that fails on some records, one that is asynchronous.
@strawberry.type
class Item:
    n: int

    @strawberry.field
    def checked(self) -> int:
        if self.n < 0:
            raise ValueError("negative")
        return self.n

    @strawberry.field
    async def later(self) -> int:
        return self.n


@strawberry.type
class Query:
    ok: bool = True


ITEMS = [Item(n=1), Item(n=-1)]


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(self) -> AsyncGenerator[Item, None]:
        for item in ITEMS:
            yield shared(item, lambda i: i)


def item_results(field: str, subscribers: int) -> tuple[list[Any], SharedResults]:
    schema = strawberry.Schema(Query, subscription=Subscription,
                               execution_context_class=FanoutExecutor)  # fmt: skip
    results = SharedResults()
    context = {"app": Context(Settings(), {SharedResults: results})}

    async def scenario() -> list[Any]:
        found = []
        for _ in range(subscribers):
            stream = await schema.subscribe(f"subscription {{ items {{ {field} }} }}",
                                            context_value=context)  # fmt: skip
            found.append([r async for r in stream])
        return found

    return asyncio.run(scenario()), results


def test_results_with_errors_are_executed_per_subscriber_as_without_sharing():
    found, results = item_results("checked", 3)
    for first, second in found:
        assert first.data == {"items": {"checked": 1}}
        assert second.data is None
        assert second.errors[0].message == "negative"
    assert (results.counters.executed, results.counters.reused) == (1, 2)
    assert results.counters.unshared == 3


def test_asynchronous_fields_are_executed_per_subscriber():
    found, results = item_results("later", 2)
    assert [[r.data for r in f] for f in found] == [[{"items": {"later": 1}},
                                                     {"items": {"later": -1}}]] * 2  # fmt: skip
    assert (results.counters.executed, results.counters.unshared) == (0, 4)


def test_the_results_kept_are_bounded():
    results = SharedResults(max_entries=3)
    records = [object() for _ in range(5)]
    for record in records:
        results.put(1, record, {"x": 1})
    assert len(results) == 3
    assert results.get(1, records[0]) is None
    assert results.get(1, records[4]) is not None
    assert results.get(2, records[4]) is None  # another selection's
    results.keep(1, ("a chunk",), results.put(2, records[0], {"x": 1}), records=3)
    assert len(results) == 1  # a chunk of 3 records counts 3
