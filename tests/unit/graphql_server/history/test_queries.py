"""The series query with InfluxDB faked (the real one: tests/e2e): columns, limits, validation,
and what reaches the store."""

from graphql_server.flux import Row
from graphql_server.history.store import BarStore
from graphql_server.validation import TimeRange
from streamlines.settings import Settings
from tests.support.graphql import DAY, DAY_T0, FakeRows, execute

T0 = DAY_T0


class FakeBars(FakeRows):
    def bars(self, symbol: str, timeframe: str, window: TimeRange, max_rows: int) -> list[Row]:
        self.calls.append(("bars", symbol, timeframe, window.start_ns, max_rows))
        return self.rows[:max_rows]


def run(query: str, bars: FakeBars, max_points: int = 100):
    return execute(query, {BarStore: bars}, Settings(graphql_max_points=max_points))


def bar(k: int) -> Row:
    close = 100.0 + k
    values = {"open": close - 1, "high": close + 1, "low": close - 2, "close": close,
              "volume": 1000.0 + k, "vwap": close - 0.5, "trade_count": 10 + k,
              "adj_open": (close - 1) / 2, "adj_close": close / 2, "adj_factor": 0.5}  # fmt: skip
    return Row(t_ns=T0 + k * DAY, symbol="GOOG", values=values, timeframe="1Day")


def test_series_comes_as_columns_with_the_adjusted_ones_only_when_asked():
    bars = FakeBars([bar(0), bar(1), bar(2)])
    q = """{ series(symbol: "GOOG", start: "2012-01-01", end: "2012-04-01", adjusted: %s) {
             symbol timeframe adjusted
             data { time tNs open close volume tradeCount adjClose adjFactor dividend } } }"""
    raw = run(q % "false", bars)
    assert raw.errors is None, raw.errors
    series = raw.data["series"]
    assert series["symbol"] == "GOOG"
    assert series["timeframe"] == "DAY_1"
    data = series["data"]
    assert data["time"] == ["2012-01-03T05:00:00+00:00", "2012-01-04T05:00:00+00:00",
                            "2012-01-05T05:00:00+00:00"]  # fmt: skip
    assert data["tNs"] == [str(T0 + k * DAY) for k in range(3)]
    assert data["close"] == [100.0, 101.0, 102.0]
    assert data["tradeCount"] == [10, 11, 12]
    assert data["adjClose"] is None
    assert data["dividend"] is None
    adjusted = run(q % "true", bars).data["series"]["data"]
    assert adjusted["adjClose"] == [50.0, 50.5, 51.0]
    assert adjusted["adjFactor"] == [0.5, 0.5, 0.5]
    assert adjusted["dividend"] == [None, None, None]  # unknown, not 0
    # naive times are UTC; the store is asked for one row more than the limit, to tell
    assert bars.calls[0] == ("bars", "GOOG", "1Day", T0 - 2 * DAY - 5 * 3600 * 10**9, 101)


def test_a_series_longer_than_the_limit_is_refused_with_what_to_do():
    result = run(
        '{ series(symbol: "GOOG", start: "2012-01-01", end: "2012-01-04") { symbol } }',
        FakeBars([bar(k) for k in range(4)]),
        max_points=3,
    )
    assert "more than 3 bars in that range" in result.errors[0].message
    assert "shorter range" in result.errors[0].message


def test_bad_arguments_are_refused_before_anything_runs():
    bars = FakeBars()
    cases = {
        '{ series(symbol: "goog", start: "2012-01-01") { symbol } }': "invalid symbol 'goog'",
        '{ series(symbol: "GOOG", start: "2012-01-05", end: "2012-01-01") { symbol } }':
            "is not after start",
    }  # fmt: skip
    for query, message in cases.items():
        result = run(query, bars)
        assert result.errors, query
        assert message in result.errors[0].message, (query, result.errors)
    assert bars.calls == []


def test_a_range_over_the_most_bars_is_refused_before_the_store_is_asked():
    bars = FakeBars()
    result = run('{ series(symbol: "GOOG", start: "2012-01-01", end: "2012-06-01", '
                 "timeframe: DAY_1) { symbol } }", bars)  # fmt: skip
    assert "spans 152 1Day bars, more than the 100" in result.errors[0].message
    assert "split it into queries of at most 100 days each" in result.errors[0].message
    assert bars.calls == []


def test_without_a_key_the_series_is_read_only_when_data_is_public():
    query = '{ series(symbol: "GOOG", start: "2012-01-01", end: "2012-01-05") { symbol } }'
    for public, codes in ((True, []), (False, [{"code": "UNAUTHENTICATED"}])):
        result = execute(query, {BarStore: FakeBars()}, Settings(graphql_public_data=public),
                         principal=None)  # fmt: skip
        assert [e.extensions for e in result.errors or []] == codes
