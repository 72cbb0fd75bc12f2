from datetime import UTC, datetime, timedelta, timezone

import pytest

from graphql_server import validation
from graphql_server.errors import QueryError
from streamlines.contracts.timeframes import BarTimeframe


@pytest.mark.parametrize("good", ["GOOG", "BRK.B", "SP500", "BTC/USD", "A"])
def test_symbols_of_stocks_indices_and_pairs_pass(good):
    assert validation.symbol(good) == good


@pytest.mark.parametrize("bad", ["goog", "", "GO OG", 'GOOG") |> drop()', "X" * 20, "BTC/"])
def test_other_symbols_are_refused_with_an_example(bad):
    with pytest.raises(QueryError, match=r"e\.g\.|such as"):
        validation.symbol(bad)


def test_subscription_symbols_are_deduplicated_and_limited():
    assert validation.symbols(["GOOG", "GOOG", "SP500"]) == ["GOOG", "SP500"]
    with pytest.raises(QueryError, match="at least one"):
        validation.symbols([])
    with pytest.raises(QueryError, match="limit is 100"):
        validation.symbols([f"S{i}" for i in range(101)])


def test_time_range_in_utc_with_exact_nanoseconds():
    start = datetime(2012, 1, 3, 14, 30, tzinfo=timezone(timedelta(hours=-5)))
    window = validation.time_range(start, start + timedelta(minutes=1, microseconds=7), 31)
    assert window.start == datetime(2012, 1, 3, 19, 30, tzinfo=UTC)
    assert window.start_ns == 1_325_619_000_000_000_000
    assert window.end_ns - window.start_ns == 60_000_007_000
    naive = validation.time_range(datetime(2012, 1, 3), datetime(2012, 1, 4), 31)
    assert naive.start.tzinfo is UTC


def test_empty_reversed_and_too_long_ranges_say_what_to_do():
    t = datetime(2012, 1, 3, tzinfo=UTC)
    with pytest.raises(QueryError, match="not after start"):
        validation.time_range(t, t, 31)
    with pytest.raises(QueryError, match=r"40 days is longer than the 31 days.*split"):
        validation.time_range(t, t + timedelta(days=40), 31)


NOW = datetime(2024, 6, 1, tzinfo=UTC)


def test_a_bar_range_may_span_max_points_bars_of_its_timeframe():
    start = datetime(2000, 1, 1, tzinfo=UTC)
    # daily bars: decades pass; an open end is everything from start on
    window = validation.bar_range(start, None, BarTimeframe.DAY_1, 100_000, NOW)
    assert (window.start, window.end) == (start, validation.FAR_FUTURE.replace(tzinfo=UTC))
    # minute bars: 100,000 minutes are 69 days and 10 hours
    day = datetime(2024, 1, 1, tzinfo=UTC)
    validation.bar_range(day, day + timedelta(minutes=100_000), BarTimeframe.MINUTE_1, 100_000)
    with pytest.raises(QueryError) as refused:
        validation.bar_range(day, day + timedelta(days=70), BarTimeframe.MINUTE_1, 100_000)
    assert str(refused.value) == (
        "the range from 2024-01-01T00:00:00+00:00 to 2024-03-11T00:00:00+00:00 spans 100,800 "
        "1Min bars, more than the 100,000 one query may ask for: split it into queries of at "
        "most 69 days each (the server's limit is STREAMLINES_GRAPHQL_MAX_POINTS bars)"
    )


def test_an_open_or_future_end_counts_up_to_now():
    recent = NOW - timedelta(hours=99)
    validation.bar_range(recent, None, BarTimeframe.HOUR_1, 100, NOW)
    validation.bar_range(recent, NOW + timedelta(days=999), BarTimeframe.HOUR_1, 100, NOW)
    validation.bar_range(NOW + timedelta(days=1), None, BarTimeframe.MINUTE_1, 1, NOW)
    with pytest.raises(QueryError, match=r"to now spans 101 1Hour bars.*at most 4 days"):
        validation.bar_range(NOW - timedelta(hours=101), None, BarTimeframe.HOUR_1, 100, NOW)
    with pytest.raises(QueryError, match="at most 5 hours each"):
        validation.bar_range(NOW - timedelta(days=1), None, BarTimeframe.MINUTE_1, 300, NOW)
    with pytest.raises(QueryError, match="not after start"):
        validation.bar_range(NOW, NOW, BarTimeframe.DAY_1, 100, NOW)


def test_limit_defaults_to_the_maximum_and_stays_within_it():
    assert validation.limit(None, 1000) == 1000
    assert validation.limit(10, 1000) == 10
    for bad in (0, 1001):
        with pytest.raises(QueryError, match="from 1 to 1000"):
            validation.limit(bad, 1000)


def test_a_long_value_is_cut_short_in_the_message():
    with pytest.raises(QueryError) as refused:
        validation.symbol("A" * 10_000)
    message = str(refused.value)
    assert "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'... (10,000 characters)" in message
    assert len(message) < 300
