from datetime import UTC, datetime, timedelta, timezone

import pytest

from graphql_server import validation
from graphql_server.errors import QueryError


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


def test_limit_defaults_to_the_maximum_and_stays_within_it():
    assert validation.limit(None, 1000) == 1000
    assert validation.limit(10, 1000) == 10
    for bad in (0, 1001):
        with pytest.raises(QueryError, match="from 1 to 1000"):
            validation.limit(bad, 1000)
