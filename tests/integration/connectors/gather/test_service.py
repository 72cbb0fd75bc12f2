"""Gather from a real replay server into the real InfluxDB and Kafka (``service.run_jobs``): the
stored values equal the server's bars (fetched independently over plain REST), raw and adjusted;
a second run adds no points; injected 429s are retried."""

from __future__ import annotations

import pytest

from streamlines.contracts.events import HistoryBar
from streamlines.contracts.timeframes import BarTimeframe
from tests.support.gather import expected, field_values, gather, stored


@pytest.mark.parametrize("processes", [1, 2])
def test_stored_bars_equal_the_servers_raw_and_adjusted_bars(
    replay, gather_settings, influx, market_bucket, unique_name, read_topic, processes
):
    bucket = market_bucket
    symbols = ["GOOG", "SP500", "ADJX", "BTC/USD"]
    report = gather(gather_settings, symbols, "2012-01-01", "2018-12-31", bucket, unique_name,
                    processes=processes)  # fmt: skip
    assert report.failed == {}
    total = 0
    for symbol in symbols:
        want = expected(replay, symbol, "1Day", "2012-01-01", "2018-12-31")
        assert want, symbol
        assert stored(influx, bucket, symbol, "1Day") == want, symbol
        total += len(want)
    assert report.points == report.bars == total
    # ADJX's adjusted prices differ from its raw ones, so raw and adjusted cannot be swapped or
    # copied without this test noticing; the factor is the data file's adj close / close.
    adjx = stored(influx, bucket, "ADJX", "1Day")
    factors = {round(p["adj_factor"], 9) for p in adjx.values()}
    assert factors == {0.495, 0.99, 1.0}
    # The server has no corporate actions for ADJX (its split and dividend are only in the
    # adjusted close): none known, so 0 and 1 on every day, not unknown.
    assert all((p["dividend"], p["split_factor"]) == (0.0, 1.0) for p in adjx.values())

    records = read_topic(unique_name, total + 1)
    assert len(records) == total
    events = [HistoryBar.from_wire(r.value) for r in records]
    assert all(r.key == e.symbol.encode() for r, e in zip(records, events, strict=True))
    sp500 = {e.t_ns: e for e in events if e.symbol == "SP500"}
    sp500_stored = stored(influx, bucket, "SP500", "1Day")
    assert set(sp500) == set(sp500_stored)
    assert all(sp500[t].adj_close == sp500_stored[t]["adj_close"] for t in sp500)


def test_hourly_and_minute_bars(replay, gather_settings, influx, market_bucket):
    bucket = market_bucket
    hours = ("2017-06-05", "2017-06-09T23:00:00Z")
    report = gather(gather_settings, ["EUR/USD"], *hours, bucket, None, BarTimeframe.HOUR_1)
    assert report.failed == {}
    want = expected(replay, "EUR/USD", "1Hour", *hours)
    assert len(want) > 100
    assert stored(influx, bucket, "EUR/USD", "1Hour") == want
    minutes = ("2012-03-01", "2012-03-02T23:59:00Z")
    report = gather(gather_settings, ["GOOG"], *minutes, bucket, None, BarTimeframe.MINUTE_1)
    assert report.failed == {}
    want = expected(replay, "GOOG", "1Min", *minutes)
    assert len(want) > 500
    assert stored(influx, bucket, "GOOG", "1Min") == want


def test_a_second_run_adds_no_points(gather_settings, influx, market_bucket):
    args = (["GOOG", "ADJX", "BTC/USD"], "2012-01-01", "2018-12-31", market_bucket, None)
    first = gather(gather_settings, *args)
    before = field_values(influx, market_bucket)
    assert before >= first.points * 12  # a point has 12 to 14 fields
    second = gather(gather_settings, *args)
    assert second.points == first.points > 0  # written again ...
    assert field_values(influx, market_bucket) == before  # ... over the same points


def test_injected_429s_are_retried_and_the_gather_succeeds(
    replay, gather_settings, influx, market_bucket
):
    replay.call("POST", "/control/faults", {"rest_error_status": 429, "rest_error_count": 3})
    symbols = ["SP500", "ADJX"]
    report = gather(gather_settings, symbols, "2018-01-01", "2018-12-31", market_bucket, None)
    assert report.failed == {}
    assert report.retries == 3
    assert replay.call("GET", "/control")["faults"]["rest_error_count"] == 0
    for symbol in symbols:
        want = expected(replay, symbol, "1Day", "2018-01-01", "2018-12-31")
        assert stored(influx, market_bucket, symbol, "1Day") == want
