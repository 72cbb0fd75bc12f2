"""The GraphQL server on the real InfluxDB and Kafka: queries return what the sink wrote,
subscriptions speak graphql-transport-ws and start with the latest value, errors are clear."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest
import websockets
from kafka import KafkaProducer

from connectors.sinks.influx import InfluxWriter
from graphql_server.client import (
    PROTOCOL,
    GraphQLClientError,
    query,
    subscribe,
    websocket_url,
)
from streamlines.child import graphql_server_process
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.influx import MEASUREMENT_RIPPLES
from streamlines.contracts.points import analytics_point

T0 = 1_325_601_000_000_000_000  # 2012-01-03T14:30:00Z
BAR = {"open": 580.1, "high": 581.0, "low": 579.55, "close": 580.75, "volume": 1200.0,
       "vwap": 580.4166666666666, "count": 7.0}  # fmt: skip


def bar(t_ns: int, close: float) -> AnalyticsRecord:
    return AnalyticsRecord(
        symbol="GOOG", metric="bar_1m", t_ns=t_ns, values={**BAR, "close": close}
    )


@pytest.fixture
def producer(stack, settings):
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    yield producer
    producer.close()


def server_env(bucket: str, topic: str) -> dict[str, str]:
    return {
        "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": bucket,
        "STREAMLINES_GRAPHQL_RIPPLES_TOPIC": topic,
    }


@pytest.fixture
def server(stack, bucket, topic, tmp_path):
    with graphql_server_process(
        server_env(bucket, topic), log_path=tmp_path / "graphql.log"
    ) as url:
        yield url


def send(producer: KafkaProducer, topic: str, records: list[AnalyticsRecord]) -> None:
    for record in records:
        producer.send(topic, key=record.symbol.encode(), value=record.to_wire())
    producer.flush()


def test_queries_return_what_the_sink_wrote_with_exact_times(settings, bucket, server):
    records = [bar(T0 + 60_000_000_000 * (i + 1) + 17, 580.0 + i / 100) for i in range(3)]
    records.append(
        AnalyticsRecord(
            symbol="GOOG",
            metric="rolling_5m",
            t_ns=T0 + 5,
            values={"price_mean": 1.5, "price_std": None},
        )
    )
    with InfluxWriter.from_settings(settings, bucket) as writer:
        writer.write(analytics_point(r, MEASUREMENT_RIPPLES) for r in records)

    bars = query(
        server,
        """query($s: String!, $a: DateTime!, $b: DateTime!) {
             bars(symbol: $s, timeframe: MINUTE_1, start: $a, end: $b) {
               start end tNs open close vwap tradeCount } }""",
        {"s": "GOOG", "a": "2012-01-03T14:30:00Z", "b": "2012-01-03T14:32:00Z"},
    )["bars"]
    # bars that *start* in [14:30, 14:32): the first two
    assert [b["tNs"] for b in bars] == [str(r.t_ns) for r in records[:2]]
    assert bars[1]["start"] == "2012-01-03T14:31:00+00:00"
    assert [b["close"] for b in bars] == [580.0, 580.01]
    assert bars[0]["vwap"] == BAR["vwap"]
    assert bars[0]["tradeCount"] == 7

    (rolling,) = query(
        server,
        """{ ripples(symbol: "GOOG", metric: ROLLING_5M, start: "2012-01-03T14:30:00Z",
                     end: "2012-01-03T14:31:00Z") { tNs values } }""",
    )["ripples"]
    assert rolling == {"tNs": str(T0 + 5), "values": {"price_mean": 1.5}}
    assert query(server, "{ symbols }") == {"symbols": ["GOOG"]}


def test_bad_requests_get_messages_not_traces(server):
    with pytest.raises(GraphQLClientError, match=r"invalid symbol 'goog'.*such as GOOG"):
        query(
            server,
            '{ bars(symbol: "goog", timeframe: MINUTE_1, start: "2012-01-03T00:00:00Z", '
            'end: "2012-01-04T00:00:00Z") { tNs } }',
        )
    with pytest.raises(GraphQLClientError, match="longer than the 31 days"):
        query(
            server,
            '{ bars(symbol: "GOOG", timeframe: MINUTE_1, start: "2012-01-03T00:00:00Z", '
            'end: "2012-03-04T00:00:00Z") { tNs } }',
        )


def test_graphiql_is_served_to_browsers(server):
    request = urllib.request.Request(server, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
    assert "graphiql" in page.lower()


def test_subscription_starts_with_the_latest_value_then_streams_updates(server, topic, producer):
    # Written before the subscription: the server knows it as the latest value.
    send(producer, topic, [bar(T0 + 60_000_000_000, 580.0), bar(T0 + 120_000_000_000, 581.0)])
    document = """subscription { ripples(symbols: ["GOOG"], metrics: [BAR_1M]) {
                    symbol metric tNs close: value(name: "close") } }"""

    async def scenario() -> list[dict]:
        received: list[dict] = []
        stream = subscribe(server, document)
        deadline = asyncio.get_running_loop().time() + 30
        async for data in stream:
            received.append(data["ripples"])
            if len(received) == 1:
                await asyncio.to_thread(send, producer, topic, [bar(T0 + 180_000_000_000, 582.0)])
            if len(received) == 2 or asyncio.get_running_loop().time() > deadline:
                break
        await stream.aclose()
        return received

    # the server reads the topic's tail at start: wait until it has the latest bar
    for _ in range(100):
        health = json.loads(urllib.request.urlopen(server.replace("/graphql", "/healthz")).read())
        if health["records_received"] >= 2:
            break
        asyncio.run(asyncio.sleep(0.1))
    received = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert received == [
        {"symbol": "GOOG", "metric": "BAR_1M", "tNs": str(T0 + 120_000_000_000), "close": 581.0},
        {"symbol": "GOOG", "metric": "BAR_1M", "tNs": str(T0 + 180_000_000_000), "close": 582.0},
    ]


@pytest.mark.parametrize(("setting", "negotiated"), [("true", True), ("false", False)])
def test_websocket_compression_is_negotiated_only_when_configured(
    stack, bucket, topic, tmp_path, setting, negotiated
):
    env = {**server_env(bucket, topic), "STREAMLINES_GRAPHQL_WEBSOCKET_COMPRESSION": setting}

    async def extensions(url: str) -> str:
        # the client offers permessage-deflate, as browsers do
        async with websockets.connect(websocket_url(url), subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            assert ws.response is not None
            return ws.response.headers.get("Sec-WebSocket-Extensions", "")

    with graphql_server_process(env, log_path=tmp_path / "graphql.log") as url:
        answer = asyncio.run(extensions(url))
    assert ("permessage-deflate" in answer) is negotiated, answer
