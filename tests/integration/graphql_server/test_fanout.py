"""Live updates executed once per selection, through the real server over websockets (both
protocols) with the ripples records on a real Kafka topic: every subscriber gets what it asked
for, the same as with the shared execution off, and the server executed each selection once
per record."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
import websockets
from kafka import KafkaProducer

from graphql_server.client import subscribe, websocket_url
from streamlines.child import graphql_server_process
from streamlines.contracts.events import AnalyticsRecord

T0 = 1_325_601_000_000_000_000  # 2012-01-03T14:30:00Z
SYMBOLS = ["GOOG", "SP500"]
RECORDS = [
    AnalyticsRecord(symbol=SYMBOLS[i % 2], metric="spread", t_ns=T0 + i * 1_000_000,
                    values={"bid": 100.0 + i, "ask": 100.5 + i, "spread": 0.5, "mid": 100.25 + i})
    for i in range(20)
]  # fmt: skip
# Two selections, each asked for by subscribers of different symbols.
PLAIN = "{ symbol tNs }"
MID = '{ symbol metric tNs mid: value(name: "mid") }'
SUBSCRIBERS = [(PLAIN, ["GOOG"]), (PLAIN, ["SP500"]), (PLAIN, SYMBOLS),
               (MID, ["GOOG"]), (MID, SYMBOLS)]  # fmt: skip
LEGACY = [(MID, ["SP500"]), (PLAIN, SYMBOLS)]  # over graphql-ws


def expected(selection: str, symbols: list[str]) -> list[dict[str, Any]]:
    rows = []
    for r in RECORDS:
        if r.symbol in symbols:
            row: dict[str, Any] = {"symbol": r.symbol, "tNs": str(r.t_ns)}
            if selection == MID:
                row = {"symbol": r.symbol, "metric": "SPREAD", "tNs": str(r.t_ns),
                       "mid": r.values["mid"]}  # fmt: skip
            rows.append(row)
    return rows


def document(selection: str, symbols: list[str]) -> str:
    return f"subscription {{ ripples(symbols: {json.dumps(symbols)}) {selection} }}"


def produce(bootstrap: str, topic: str) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for record in RECORDS:
        producer.send(topic, key=record.symbol.encode(), value=record.to_wire())
    producer.close()


async def read_transport_ws(url: str, doc: str, count: int) -> list[dict]:
    got: list[dict] = []
    stream = subscribe(url, doc)
    async for data in stream:
        got.append(data["ripples"])
        if len(got) == count:
            break
    await stream.aclose()
    return got


async def read_graphql_ws(url: str, doc: str, count: int) -> list[dict]:
    """The legacy protocol, spoken by hand: connection_init, start, then data messages."""
    got: list[dict] = []
    async with websockets.connect(websocket_url(url), subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "start", "id": "1", "payload": {"query": doc}}))
        while len(got) < count:
            message = json.loads(await ws.recv())
            if message["type"] == "ka":
                continue
            assert message["type"] == "data", message
            assert "errors" not in message["payload"], message
            got.append(message["payload"]["data"]["ripples"])
    return got


def health(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url.replace("/graphql", "/healthz")).read())


def run_subscribers(url: str, bootstrap: str, topic: str) -> list[list[dict]]:
    async def scenario() -> list[list[dict]]:
        readers = [
            read_transport_ws(url, document(sel, syms), len(expected(sel, syms)))
            for sel, syms in SUBSCRIBERS
        ] + [
            read_graphql_ws(url, document(sel, syms), len(expected(sel, syms)))
            for sel, syms in LEGACY
        ]
        tasks = [asyncio.ensure_future(r) for r in readers]
        for _ in range(100):  # every subscription is on the hub
            if health(url)["subscriptions"] == len(tasks):
                break
            await asyncio.sleep(0.1)
        await asyncio.to_thread(produce, bootstrap, topic)
        return list(await asyncio.wait_for(asyncio.gather(*tasks), 60))

    return asyncio.run(scenario())


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "per-subscriber"])
def test_every_subscriber_gets_its_selection_of_each_record(
    shared, settings, topic, tmp_path
) -> None:
    env = {"STREAMLINES_GRAPHQL_RIPPLES_TOPIC": topic,
           "STREAMLINES_GRAPHQL_SHARED_EXECUTION": "true" if shared else "false"}  # fmt: skip
    with graphql_server_process(env, log_path=tmp_path / "graphql.log") as url:
        received = run_subscribers(url, settings.kafka_bootstrap, topic)
        counters = health(url)["shared_execution"]

    for got, (selection, symbols) in zip(received, SUBSCRIBERS + LEGACY, strict=True):
        assert got == expected(selection, symbols)
    if not shared:
        assert counters is None
        return
    # Each record executed once per selection (both selections take every record), and
    # every other delivery reused that result.
    deliveries = sum(len(expected(sel, syms)) for sel, syms in SUBSCRIBERS + LEGACY)
    assert counters == {
        "executed": 2 * len(RECORDS),
        "reused": deliveries - 2 * len(RECORDS),
        "unshared": 0,
    }


async def read_batches(url: str, symbols: list[str], count: int) -> list[dict]:
    """``ripplesBatches`` points until ``count`` of them came (in however many messages)."""
    doc = (f"subscription {{ ripplesBatches(symbols: {json.dumps(symbols)}) "
           f"{{ points {MID} }} }}")  # fmt: skip
    got: list[dict] = []
    stream = subscribe(url, doc)
    async for data in stream:
        got.extend(data["ripplesBatches"]["points"])
        if len(got) >= count:
            break
    await stream.aclose()
    return got


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "per-subscriber"])
def test_batched_subscribers_get_every_record_of_their_symbols_in_order(
    shared, settings, topic, tmp_path
) -> None:
    batched = [["GOOG"], ["GOOG"], SYMBOLS, ["SP500"]]
    env = {"STREAMLINES_GRAPHQL_RIPPLES_TOPIC": topic,
           "STREAMLINES_GRAPHQL_SHARED_EXECUTION": "true" if shared else "false"}  # fmt: skip

    async def scenario(url: str) -> list[list[dict]]:
        tasks = [
            asyncio.ensure_future(read_batches(url, syms, len(expected(MID, syms))))
            for syms in batched
        ]
        for _ in range(100):
            if health(url)["subscriptions"] == len(tasks):
                break
            await asyncio.sleep(0.1)
        await asyncio.to_thread(produce, settings.kafka_bootstrap, topic)
        return list(await asyncio.wait_for(asyncio.gather(*tasks), 60))

    with graphql_server_process(env, log_path=tmp_path / "graphql.log") as url:
        received = asyncio.run(scenario(url))
        counters = health(url)["shared_execution"]

    for got, symbols in zip(received, batched, strict=True):
        assert got == expected(MID, symbols)
    if shared:
        # each record once per filter (subscriptions of the same symbols share one), in the
        # chunks the hub cut: the second GOOG subscriber reused every chunk of the first
        filters = {tuple(syms) for syms in batched}
        assert counters["executed"] == sum(len(expected(MID, list(f))) for f in filters)
        assert counters["reused"] > 0
        assert counters["unshared"] == 0
