"""The price store's queries and mutations with InfluxDB faked (the real one: tests/integration
and tests/e2e): shapes, ordering, validation, and what reaches the store."""

import asyncio

from graphql_server.live import LiveHub
from graphql_server.price_store import Row
from graphql_server.schema import Context, build_schema
from graphql_server.validation import TimeRange
from streamlines.settings import Settings

DAY = 86_400 * 10**9
T0 = 1_325_566_800_000_000_000  # 2012-01-03T05:00:00Z, a daily bar's start


class FakePrices:
    def __init__(self, rows: list[Row] | None = None) -> None:
        self.rows = rows or []
        self.calls: list[tuple] = []

    def bars(self, symbol: str, timeframe: str, window: TimeRange, max_rows: int) -> list[Row]:
        self.calls.append(("bars", symbol, timeframe, window.start_ns, max_rows))
        return self.rows[:max_rows]

    def indicator(self, symbol: str, metric: str, window: TimeRange, max_rows: int) -> list[Row]:
        self.calls.append(("indicator", symbol, metric))
        return self.rows[:max_rows]

    def signals(self, symbols, timeframe, window, max_rows):
        self.calls.append(("signals", tuple(symbols), timeframe))
        return self.rows[:max_rows]

    def volatility_round(self, at_ns: int, lookback_ns: int):
        self.calls.append(("volatility", at_ns, lookback_ns))
        return (self.rows[0].t_ns, self.rows) if self.rows else None


def run(query: str, prices: FakePrices, max_points: int = 100):
    settings = Settings(graphql_max_points=max_points)
    context = Context(settings, None, LiveHub(), prices=prices)  # type: ignore[arg-type]
    return asyncio.run(build_schema().execute(query, context_value={"app": context}))


def bar(k: int) -> Row:
    close = 100.0 + k
    values = {"open": close - 1, "high": close + 1, "low": close - 2, "close": close,
              "volume": 1000.0 + k, "vwap": close - 0.5, "trade_count": 10 + k,
              "adj_open": (close - 1) / 2, "adj_close": close / 2, "adj_factor": 0.5}  # fmt: skip
    return Row(t_ns=T0 + k * DAY, symbol="GOOG", values=values, timeframe="1Day")


def test_series_comes_as_columns_with_the_adjusted_ones_only_when_asked():
    prices = FakePrices([bar(0), bar(1), bar(2)])
    q = """{ series(ticker: "GOOG", start: "2012-01-01", adjusted: %s) { ticker timeframe adjusted
             data { date tNs open close volume tradeCount adjClose adjFactor dividend } } }"""
    raw = run(q % "false", prices)
    assert raw.errors is None, raw.errors
    series = raw.data["series"]
    assert series["ticker"] == "GOOG"
    assert series["timeframe"] == "DAY_1"
    data = series["data"]
    assert data["date"] == ["2012-01-03T05:00:00+00:00", "2012-01-04T05:00:00+00:00",
                            "2012-01-05T05:00:00+00:00"]  # fmt: skip
    assert data["tNs"] == [str(T0 + k * DAY) for k in range(3)]
    assert data["close"] == [100.0, 101.0, 102.0]
    assert data["tradeCount"] == [10, 11, 12]
    assert data["adjClose"] is None
    assert data["dividend"] is None
    adjusted = run(q % "true", prices).data["series"]["data"]
    assert adjusted["adjClose"] == [50.0, 50.5, 51.0]
    assert adjusted["adjFactor"] == [0.5, 0.5, 0.5]
    assert adjusted["dividend"] == [None, None, None]  # unknown, not 0
    # naive times are UTC; the store is asked for one row more than the limit, to tell
    assert prices.calls[0] == ("bars", "GOOG", "1Day", T0 - 2 * DAY - 5 * 3600 * 10**9, 101)


def test_a_series_longer_than_the_limit_is_refused_with_what_to_do():
    result = run(
        '{ series(ticker: "GOOG", start: "2012-01-01") { ticker } }',
        FakePrices([bar(k) for k in range(4)]),
        max_points=3,
    )
    assert "more than 3 bars in that range" in result.errors[0].message
    assert "shorter range" in result.errors[0].message


def test_indicators_are_columns_per_name_with_null_while_warming_up():
    rows = [
        Row(T0, "GOOG", {"sma_20": 1.5}, metric="sma_1Day"),
        Row(T0 + DAY, "GOOG", {"sma_20": 1.75, "sma_50": 2.0}, metric="sma_1Day"),
    ]
    prices = FakePrices(rows)
    result = run(
        """{ indicators(symbol: "GOOG", names: [SMA, RSI, SMA], start: "2012-01-01",
             timeframe: DAY_1) { name metric tNs values } }""",
        prices,
    )
    assert result.errors is None, result.errors
    sma, rsi = result.data["indicators"]
    assert (sma["name"], sma["metric"], rsi["metric"]) == ("SMA", "sma_1Day", "rsi_1Day")
    assert sma["values"] == {"sma_20": [1.5, 1.75], "sma_50": [None, 2.0]}
    assert [c[2] for c in prices.calls] == ["sma_1Day", "rsi_1Day"]  # duplicates asked once


def test_signals_say_direction_and_whether_it_flipped():
    rows = [
        Row(T0, "GOOG", {"signal": 1, "cross": 0, "fast": 2.0, "slow": 1.0},
            metric="cross_sma50_sma200_1Day"),
        Row(T0 + DAY, "GOOG", {"signal": -1, "cross": 1, "fast": 1.0, "slow": 1.5},
            metric="cross_sma50_sma200_1Day"),
    ]  # fmt: skip
    result = run(
        """{ signals(symbols: ["GOOG"], since: "2012-01-01T00:00:00Z") {
             symbol name direction flipped fast slow time } }""",
        FakePrices(rows),
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
    by_rel = run(q % (10, "REL_STD"), FakePrices(rows)).data["volatilityRanking"]
    assert [e["symbol"] for e in by_rel["entries"]] == ["B", "D", "A", "C"]
    assert [e["rank"] for e in by_rel["entries"]] == [1, 2, 3, 4]
    assert by_rel["updatedAt"] == "2012-01-03T06:00:00+00:00"
    assert by_rel["symbols"] == 4
    by_std = run(q % (2, "STD"), FakePrices(rows)).data["volatilityRanking"]
    assert [e["symbol"] for e in by_std["entries"]] == ["A", "B"]
    assert run(q % (2, "STD"), FakePrices([])).data == {"volatilityRanking": None}


def test_bad_arguments_are_refused_before_anything_runs():
    prices = FakePrices()
    cases = {
        '{ series(ticker: "goog", start: "2012-01-01") { ticker } }': "invalid symbol 'goog'",
        '{ series(ticker: "GOOG", start: "2012-01-05", end: "2012-01-01") { ticker } }':
            "is not after start",
        '{ indicators(symbol: "GOOG", names: [], start: "2012-01-01") { metric } }':
            "no indicator names",
        '{ volatilityRanking(at: "2012-01-03T00:00:00Z", limit: 0) { tNs } }': "limit 0",
        'mutation { deleteBars(symbol: "GOOG", start: "2012-01-01", end: "2012-01-02", '
        'reason: "  ") { deletion { deleted } } }': "no reason given",
        'mutation { backfill(symbols: [], start: "2012-01-01", end: "2012-01-02") { id } }':
            "no symbols",
    }  # fmt: skip
    for query, message in cases.items():
        result = run(query, prices)
        assert result.errors, query
        assert message in result.errors[0].message, (query, result.errors)
    assert prices.calls == []


def test_an_unknown_job_is_null():
    assert run('{ job(id: "nope") { id } }', FakePrices()).data == {"job": None}
