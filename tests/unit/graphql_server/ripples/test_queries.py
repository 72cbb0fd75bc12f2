"""The ripples queries with the InfluxDB boundary faked (the real one: tests/integration)."""

from graphql_server.ripples.live import LiveHub
from graphql_server.ripples.store import AnalyticsStore
from streamlines.settings import Settings
from tests.support.graphql import T0, FakeRipplesStore, execute


def run(query: str, store: FakeRipplesStore | None = None, **variables):
    services = {AnalyticsStore: store or FakeRipplesStore(), LiveHub: LiveHub()}
    return execute(query, services, Settings(graphql_max_range_days=2), **variables)


def test_bars_select_by_window_start_and_keep_nanoseconds():
    store = FakeRipplesStore()
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
    store = FakeRipplesStore()
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


def test_without_a_key_the_data_is_read_only_when_it_is_public():
    queries = [
        "{ symbols }",
        """{ bars(symbol: "GOOG", timeframe: MINUTE_1, start: "2012-01-03T14:30:00Z",
                  end: "2012-01-03T15:30:00Z") { tNs } }""",
        """{ ripples(symbol: "GOOG", metric: BAR_1S, start: "2012-01-03T14:30:00Z",
                     end: "2012-01-03T14:31:00Z") { tNs } }""",
    ]
    services = {AnalyticsStore: FakeRipplesStore(), LiveHub: LiveHub()}
    for query in queries:
        public = execute(query, services, Settings(graphql_public_data=True), principal=None)
        assert public.errors is None, public.errors
        private = execute(query, services, Settings(graphql_public_data=False), principal=None)
        (error,) = private.errors or []
        assert error.extensions == {"code": "UNAUTHENTICATED"}
        assert "this needs an API key" in error.message
        with_key = execute(query, services, Settings(graphql_public_data=False))
        assert with_key.errors is None
