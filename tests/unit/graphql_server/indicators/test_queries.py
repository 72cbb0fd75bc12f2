"""The currents queries with InfluxDB faked (the real one: tests/e2e): shapes, ordering,
validation, and what reaches the store."""

from graphql_server.flux import Row
from graphql_server.indicators.store import IndicatorStore
from graphql_server.validation import TimeRange
from streamlines.settings import Settings
from tests.support.graphql import DAY, DAY_T0, FakeRows, execute

T0 = DAY_T0


class FakeIndicators(FakeRows):
    def indicator(self, symbol: str, metric: str, window: TimeRange, max_rows: int) -> list[Row]:
        self.calls.append(("indicator", symbol, metric))
        return self.rows[:max_rows]

    def signals(self, symbols, timeframe, window, max_rows):
        self.calls.append(("signals", tuple(symbols), timeframe))
        return self.rows[:max_rows]

    def volatility_round(self, at_ns: int, lookback_ns: int):
        self.calls.append(("volatility", at_ns, lookback_ns))
        return (self.rows[0].t_ns, self.rows) if self.rows else None


def run(query: str, store: FakeIndicators, max_points: int = 100):
    return execute(query, {IndicatorStore: store}, Settings(graphql_max_points=max_points))


def test_indicators_are_columns_per_name_with_null_while_warming_up():
    rows = [
        Row(T0, "GOOG", {"sma_20": 1.5}, metric="sma_1Day"),
        Row(T0 + DAY, "GOOG", {"sma_20": 1.75, "sma_50": 2.0}, metric="sma_1Day"),
    ]
    store = FakeIndicators(rows)
    result = run(
        """{ indicators(symbol: "GOOG", names: [SMA, RSI, SMA], start: "2012-01-01",
             end: "2012-04-01", timeframe: DAY_1) { name metric tNs values } }""",
        store,
    )
    assert result.errors is None, result.errors
    sma, rsi = result.data["indicators"]
    assert (sma["name"], sma["metric"], rsi["metric"]) == ("SMA", "sma_1Day", "rsi_1Day")
    assert sma["values"] == {"sma_20": [1.5, 1.75], "sma_50": [None, 2.0]}
    assert [c[2] for c in store.calls] == ["sma_1Day", "rsi_1Day"]  # duplicates asked once


def test_signals_say_direction_and_whether_it_flipped():
    rows = [
        Row(T0, "GOOG", {"signal": 1, "cross": 0, "fast": 2.0, "slow": 1.0},
            metric="cross_sma50_sma200_1Day"),
        Row(T0 + DAY, "GOOG", {"signal": -1, "cross": 1, "fast": 1.0, "slow": 1.5},
            metric="cross_sma50_sma200_1Day"),
    ]  # fmt: skip
    result = run(
        """{ signals(symbols: ["GOOG"], start: "2012-01-01T00:00:00Z", end: "2012-04-01") {
             symbol name direction flipped fast slow time } }""",
        FakeIndicators(rows),
    )
    assert result.errors is None, result.errors
    first, flip = result.data["signals"]
    assert first == {"symbol": "GOOG", "name": "sma50_sma200", "direction": "BULLISH",
                     "flipped": False, "fast": 2.0, "slow": 1.0,
                     "time": "2012-01-03T05:00:00+00:00"}  # fmt: skip
    assert (flip["direction"], flip["flipped"]) == ("BEARISH", True)


def test_the_volatility_ranking_sorts_by_the_measure_unknown_last_and_shares_the_round_time():
    t = T0 + 3600 * 10**9
    rows = [
        Row(t, "A", {"std": 2.0, "rel_std": 0.01, "mean": 200.0, "count": 390}),
        Row(t, "B", {"std": 1.0, "rel_std": 0.05, "mean": 20.0, "count": 390}),
        Row(t, "C", {"mean": 5.0, "count": 1}),  # one bar: no deviation
        Row(t, "D", {"std": 0.5, "rel_std": 0.02, "mean": 25.0, "count": 12}),
    ]
    q = """{ volatilityRanking(at: "2012-01-03T07:00:00Z", limit: %d, by: %s) {
             updatedAt tNs by symbols entries { rank symbol std relStd count } } }"""
    by_rel = run(q % (10, "REL_STD"), FakeIndicators(rows)).data["volatilityRanking"]
    assert [e["symbol"] for e in by_rel["entries"]] == ["B", "D", "A", "C"]
    assert [e["rank"] for e in by_rel["entries"]] == [1, 2, 3, 4]
    assert by_rel["updatedAt"] == "2012-01-03T06:00:00+00:00"
    assert by_rel["symbols"] == 4
    by_std = run(q % (2, "STD"), FakeIndicators(rows)).data["volatilityRanking"]
    assert [e["symbol"] for e in by_std["entries"]] == ["A", "B"]
    assert run(q % (2, "STD"), FakeIndicators([])).data == {"volatilityRanking": None}


def test_bad_arguments_are_refused_before_anything_runs():
    store = FakeIndicators()
    cases = {
        '{ indicators(symbol: "GOOG", names: [], start: "2012-01-01") { metric } }':
            "no indicator names",
        '{ volatilityRanking(at: "2012-01-03T00:00:00Z", limit: 0) { tNs } }': "limit 0",
    }  # fmt: skip
    for query, message in cases.items():
        result = run(query, store)
        assert result.errors, query
        assert message in result.errors[0].message, (query, result.errors)
    assert store.calls == []


def test_ranges_over_the_most_bars_are_refused_before_the_store_is_asked():
    store = FakeIndicators()
    for query in (
        '{ indicators(symbol: "GOOG", names: [SMA], start: "2024-01-01T00:00:00Z", '
        'end: "2024-01-01T02:00:00Z", timeframe: MINUTE_1) { metric } }',
        '{ signals(symbols: ["GOOG"], start: "2024-01-01T00:00:00Z", '
        'end: "2024-01-01T02:00:00Z", timeframe: MINUTE_1) { symbol } }',
    ):
        message = run(query, store).errors[0].message
        assert "spans 120 1Min bars, more than the 100" in message, message
    assert store.calls == []


def test_without_a_key_the_currents_are_read_only_when_data_is_public():
    queries = (
        '{ indicators(symbol: "GOOG", names: [SMA], start: "2012-01-01", end: "2012-02-01") '
        "{ metric } }",
        '{ signals(symbols: ["GOOG"], start: "2012-01-01", end: "2012-02-01") { symbol } }',
        '{ volatilityRanking(at: "2012-01-03T00:00:00Z") { tNs } }',
    )
    for query in queries:
        for public, codes in ((True, []), (False, [{"code": "UNAUTHENTICATED"}])):
            result = execute(query, {IndicatorStore: FakeIndicators()},
                             Settings(graphql_public_data=public), principal=None)  # fmt: skip
            assert [e.extensions for e in result.errors or []] == codes, query
