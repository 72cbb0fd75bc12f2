"""The series query with InfluxDB faked (the real one: tests/e2e): columns, limits, validation,
and what reaches the store."""

import numpy as np

from graphql_server.column_data import FieldColumn
from graphql_server.downsample import Downsample, downsample
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

    def field_column(
        self, symbol: str, timeframe: str, field: str, window: TimeRange, max_rows: int
    ) -> FieldColumn:
        self.calls.append(("field", symbol, timeframe, field, max_rows))
        rows = [r for r in self.rows[:max_rows] if field in r.values]
        return FieldColumn(
            np.array([r.t_ns for r in rows], dtype=np.int64),
            np.array([float(r.values[field]) for r in rows]),
        )


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


def run_with(query, services, settings=None, **variables):
    return execute(query, services, settings, **variables)


def wavy(k: int) -> Row:
    """Bar k of a series with its ups and downs (and a null vwap every 7th bar)."""
    row = bar(k)
    close = 100.0 + 10 * np.sin(k / 5.0) + k / 10
    values = {**row.values, "close": close}
    if k % 7 == 0:
        del values["vwap"]
    return Row(t_ns=row.t_ns, symbol="GOOG", values=values, timeframe="1Day")


SERIES_DOWNSAMPLED = """query($n: Int, $how: Downsample!, $adjusted: Boolean! = false) {
  series(symbol: "GOOG", start: "2012-01-01", end: "2013-06-01", maxPoints: $n,
         downsample: $how, adjusted: $adjusted) {
    sourcePoints downsampled data { tNs open close vwap tradeCount adjClose } } }"""


def test_max_points_picks_whole_bars_by_the_downsampling_asked_for():
    rows = [wavy(k) for k in range(300)]
    close = np.array([r.values["close"] for r in rows])
    t_ns = np.array([r.t_ns for r in rows], dtype=np.int64)
    for how in Downsample:
        bars = FakeBars(rows)
        result = run_with(SERIES_DOWNSAMPLED, {BarStore: bars}, Settings(graphql_max_points=100,
                         graphql_max_source_bars=1000), n=40, how=how.name)  # fmt: skip
        assert result.errors is None, result.errors
        series = result.data["series"]
        picked = downsample(t_ns, close, 40, how).tolist()
        assert (series["sourcePoints"], series["downsampled"]) == (300, True)
        data = series["data"]
        assert data["tNs"] == [str(rows[i].t_ns) for i in picked]
        # every column of the same bars, never averaged; nulls stay null
        assert data["close"] == [rows[i].values["close"] for i in picked]
        assert data["open"] == [rows[i].values["open"] for i in picked]
        assert data["vwap"] == [rows[i].values.get("vwap") for i in picked]
        assert data["tradeCount"] == [rows[i].values["trade_count"] for i in picked]
        assert data["adjClose"] is None
        # the range's bars up to the source limit (one more, to tell), one read per field
        assert ("field", "GOOG", "1Day", "close", 1001) in bars.calls
        assert not any(c[0] == "bars" for c in bars.calls)


def test_max_points_over_the_bars_returns_them_all_not_downsampled():
    bars = FakeBars([wavy(k) for k in range(30)])
    result = run_with(SERIES_DOWNSAMPLED, {BarStore: bars}, n=30, how="MINMAX", adjusted=True)
    series = result.data["series"]
    assert (series["sourcePoints"], series["downsampled"]) == (30, False)
    assert series["data"]["tNs"] == [str(wavy(k).t_ns) for k in range(30)]
    assert series["data"]["adjClose"] == [wavy(k).values["adj_close"] for k in range(30)]
    assert any(c[3] == "adj_close" for c in bars.calls)


def test_without_max_points_sourcepoints_is_what_came_back():
    bars = FakeBars([bar(0), bar(1)])
    result = run('{ series(symbol: "GOOG", start: "2012-01-01", end: "2012-03-01") '
                 "{ sourcePoints downsampled } }", bars)  # fmt: skip
    assert result.data["series"] == {"sourcePoints": 2, "downsampled": False}


def test_max_points_lifts_the_range_limit_to_the_source_bars_limit():
    settings = Settings(graphql_max_points=100, graphql_max_source_bars=600_000)
    year = ('{ series(symbol: "GOOG", start: "2011-01-01", end: "2012-01-01", timeframe: '
            "MINUTE_1%s) { sourcePoints } }")  # fmt: skip
    refused = run_with(year % "", {BarStore: FakeBars()}, settings)
    assert "STREAMLINES_GRAPHQL_MAX_POINTS" in refused.errors[0].message
    allowed = run_with(year % ", maxPoints: 100", {BarStore: FakeBars()}, settings)
    assert allowed.errors is None, allowed.errors
    longer = run_with(year.replace("2011-01-01", "2009-01-01") % ", maxPoints: 100",
                     {BarStore: FakeBars()}, settings)  # fmt: skip
    assert "spans 1,576,800 1Min bars, more than the 600,000" in longer.errors[0].message
    assert "STREAMLINES_GRAPHQL_MAX_SOURCE_BARS" in longer.errors[0].message


def test_max_points_out_of_range_and_too_many_source_bars_are_refused():
    settings = Settings(graphql_max_points=100, graphql_max_source_bars=50)
    for n in (0, 101):
        result = run_with(SERIES_DOWNSAMPLED, {BarStore: FakeBars()}, settings, n=n, how="LTTB")
        assert f"maxPoints {n}: use a number from 1 to 100" in result.errors[0].message
    many = FakeBars([wavy(k) for k in range(60)])
    result = run_with(SERIES_DOWNSAMPLED.replace("2013-06-01", "2012-02-01"), {BarStore: many},
                     settings, n=10, how="LTTB")  # fmt: skip
    assert "more than 50 bars in that range to downsample" in result.errors[0].message
    assert "STREAMLINES_GRAPHQL_MAX_SOURCE_BARS" in result.errors[0].message
