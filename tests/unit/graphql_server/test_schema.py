"""The schema's resolvers with the InfluxDB boundary faked (the real one: tests/integration)."""

import asyncio

from graphql_server.live import LiveHub
from graphql_server.schema import Context, build_schema
from graphql_server.store import Point
from graphql_server.validation import TimeRange
from streamlines.contracts.events import AnalyticsRecord
from streamlines.settings import Settings

T0 = 1_325_601_000_000_000_000  # 2012-01-03T14:30:00Z


class FakeStore:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def symbols(self) -> list[str]:
        return ["GOOG", "SP500"]

    def series(self, symbol: str, metric: str, window: TimeRange, max_points: int) -> list[Point]:
        self.calls.append((symbol, metric, window.start_ns, window.end_ns, max_points))
        values = {"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 30.0,
                  "vwap": 1.25, "count": 3.0}  # fmt: skip
        return [Point(T0 + 60_000_000_000 + 123, values)]


def run(query: str, store: FakeStore | None = None, **variables):
    context = Context(Settings(graphql_max_range_days=2), store or FakeStore(), LiveHub())
    return asyncio.run(
        build_schema().execute(query, variable_values=variables, context_value={"app": context})
    )


def test_bars_select_by_window_start_and_keep_nanoseconds():
    store = FakeStore()
    result = run(
        """{ bars(symbol: "GOOG", timeframe: MINUTE_1, start: "2012-01-03T14:30:00Z",
                  end: "2012-01-03T15:30:00Z", limit: 5) {
               symbol timeframe start end tNs open high low close volume vwap tradeCount } }""",
        store,
    )
    assert result.errors is None, result.errors
    (bar,) = result.data["bars"]
    assert bar["tNs"] == str(T0 + 60_000_000_123)
    assert bar["start"] == "2012-01-03T14:30:00+00:00"
    assert bar["tradeCount"] == 3
    assert bar["vwap"] == 1.25
    assert bar["timeframe"] == "MINUTE_1"
    # stored at the window end: the query asks for ends in (start, end] shifted by one minute
    assert store.calls == [("GOOG", "bar_1m", T0 + 60 * 10**9, T0 + 3660 * 10**9, 5)]


def test_ripples_return_every_value_and_single_ones_by_name():
    result = run(
        """{ ripples(symbol: "GOOG", metric: BAR_1S, start: "2012-01-03T14:30:00Z",
                     end: "2012-01-03T14:31:00Z") { metric tNs values vwap: value(name: "vwap")
                     missing: value(name: "nope") } }"""
    )
    assert result.errors is None, result.errors
    (point,) = result.data["ripples"]
    assert point["metric"] == "BAR_1S"
    assert point["vwap"] == 1.25
    assert point["missing"] is None
    assert point["values"]["count"] == 3.0


def test_symbols():
    assert run("{ symbols }").data == {"symbols": ["GOOG", "SP500"]}


def test_bad_arguments_come_back_as_clear_errors_without_a_call_to_the_store():
    store = FakeStore()
    cases = {
        '{ ripples(symbol: "goog", metric: SPREAD, start: "2012-01-03T00:00:00Z", '
        'end: "2012-01-04T00:00:00Z") { tNs } }': "invalid symbol 'goog'",
        '{ ripples(symbol: "GOOG", metric: SPREAD, start: "2012-01-03T00:00:00Z", '
        'end: "2012-01-09T00:00:00Z") { tNs } }': "longer than the 2 days",
        '{ bars(symbol: "GOOG", timeframe: SECOND_1, start: "2012-01-03T00:00:00Z", '
        'end: "2012-01-03T01:00:00Z", limit: 0) { tNs } }': "limit 0: use a number from 1",
    }
    for query, message in cases.items():
        result = run(query, store)
        assert message in result.errors[0].message
    assert store.calls == []
    unknown = run('{ ripples(symbol: "GOOG", metric: VOLUME, start: "x", end: "y") { tNs } }')
    assert "VOLUME" in unknown.errors[0].message


def test_an_internal_failure_is_masked_for_the_client():
    class Broken(FakeStore):
        def symbols(self) -> list[str]:
            raise RuntimeError("secret connection string")

    result = run("{ symbols }", Broken())
    assert result.errors[0].message.startswith("internal server error")


def test_subscription_sends_the_latest_value_then_updates():
    async def scenario():
        hub = LiveHub()
        hub.publish([AnalyticsRecord(symbol="GOOG", metric="spread", t_ns=T0, values={"mid": 2})])
        context = Context(Settings(), FakeStore(), hub)
        stream = await build_schema().subscribe(
            'subscription { ripples(symbols: ["GOOG"]) '
            '{ symbol metric tNs mid: value(name: "mid") } }',
            context_value={"app": context},
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
        context = Context(Settings(), FakeStore(), hub)
        stream = await build_schema().subscribe(
            'subscription { ripplesBatches(symbols: ["GOOG"], maxBatch: 2) { points { tNs } } }',
            context_value={"app": context},
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
        context = Context(Settings(), FakeStore(), LiveHub())
        stream = await build_schema().subscribe(
            'subscription { ripplesBatches(symbols: ["GOOG"], maxBatch: 0) { points { tNs } } }',
            context_value={"app": context},
        )
        result = await asyncio.wait_for(anext(stream), 2)
        return result.errors[0].message

    assert "maxBatch 0: use a number from 1 to 5000" in asyncio.run(scenario())
