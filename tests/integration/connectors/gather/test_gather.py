"""Gather from a real replay server into the real InfluxDB and Kafka: the stored values equal the
server's bars (fetched independently over plain REST), raw and adjusted; a second run adds no
points; injected 429s are retried; an unknown symbol is reported while the others are written;
``--daily`` appends the latest completed bars."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from influxdb_client import InfluxDBClient

from connectors.alpaca.normalize import event_time_ns
from connectors.gather.cli import parse_time, run_jobs
from connectors.gather.run import Job, Report
from connectors.gather.timeframe import Timeframe
from streamlines.contracts.events import HistoryBar
from streamlines.settings import Settings
from tests.support.replay import ReplayServer

BAR_FIELDS = {"o": "open", "h": "high", "l": "low", "c": "close"}
STORED_FLUX = """
from(bucket: bucket_name)
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "bars" and r.symbol == symbol and r.timeframe == timeframe)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""
COUNT_FLUX = """
from(bucket: bucket_name)
  |> range(start: 0)
  |> group()
  |> count()
"""
NOT_FIELDS = {"result", "table", "_start", "_stop", "_time", "_measurement", "symbol", "timeframe",
              "t_ns"}  # fmt: skip


def reference(
    replay: ReplayServer, symbol: str, timeframe: str, start: str, end: str, adjustment: str
) -> list[dict[str, Any]]:
    """The server's bars over plain REST (no alpaca-py, no gather code), every page."""
    path = "/v1beta3/crypto/us/bars" if "/" in symbol else "/v2/stocks/bars"
    params = {"symbols": symbol, "timeframe": timeframe, "start": start, "end": end,
              "adjustment": adjustment, "limit": 1000}  # fmt: skip
    rows: list[dict[str, Any]] = []
    while True:
        body = replay.call("GET", path, **params)
        rows += body["bars"].get(symbol, [])
        if body["next_page_token"] is None:
            return rows
        params["page_token"] = body["next_page_token"]


def expected(
    replay: ReplayServer, symbol: str, timeframe: str, start: str, end: str
) -> dict[int, dict[str, Any]]:
    """What InfluxDB should hold for these bars: t_ns -> fields."""
    raw = reference(replay, symbol, timeframe, start, end, "raw")
    adjusted = {r["t"]: r for r in reference(replay, symbol, timeframe, start, end, "all")}
    out = {}
    for row in raw:
        adj = adjusted[row["t"]]
        fields = {name: float(row[key]) for key, name in BAR_FIELDS.items()}
        fields |= {f"adj_{name}": float(adj[key]) for key, name in BAR_FIELDS.items()}
        fields |= {"volume": float(row["v"]), "adj_volume": float(adj["v"]),
                   "trade_count": row["n"], "adj_factor": adj["c"] / row["c"]}  # fmt: skip
        if row["vw"]:
            fields["vwap"] = row["vw"]
        out[event_time_ns(row["t"])] = fields
    return out


def stored(influx: InfluxDBClient, bucket: str, symbol: str, timeframe: str) -> dict[int, Any]:
    params = {"bucket_name": bucket, "symbol": symbol, "timeframe": timeframe}
    tables = influx.query_api().query(STORED_FLUX, params=params)
    return {
        int(r.values["t_ns"]): {
            k: v for k, v in r.values.items() if k not in NOT_FIELDS and v is not None
        }
        for table in tables
        for r in table.records
    }


def field_values(influx: InfluxDBClient, bucket: str) -> int:
    """Every field value in the bucket: a duplicated point would add to it."""
    tables = influx.query_api().query(COUNT_FLUX, params={"bucket_name": bucket})
    return sum(int(r.get_value()) for table in tables for r in table.records)


def gather(
    settings: Settings,
    symbols: list[str],
    start: str,
    end: str,
    bucket: str,
    topic: str | None,
    timeframe: Timeframe = Timeframe.day,
    processes: int = 1,
) -> Report:
    first, last = parse_time(start, "--start"), parse_time(end, "--end")
    jobs = [Job(symbol, first, last) for symbol in symbols]
    return run_jobs(settings, jobs, timeframe, bucket, topic, concurrency=3, processes=processes)


def cli(replay: ReplayServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STREAMLINES_REPLAY_PORT": str(replay.port),
           "STREAMLINES_ALPACA_API_KEY": "", "STREAMLINES_ALPACA_SECRET_KEY": ""}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "streamlines.cli", "gather", *args],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


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
    assert all("dividend" not in p and "split_factor" not in p for p in adjx.values())

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
    report = gather(gather_settings, ["EUR/USD"], *hours, bucket, None, Timeframe.hour)
    assert report.failed == {}
    want = expected(replay, "EUR/USD", "1Hour", *hours)
    assert len(want) > 100
    assert stored(influx, bucket, "EUR/USD", "1Hour") == want
    minutes = ("2012-03-01", "2012-03-02T23:59:00Z")
    report = gather(gather_settings, ["GOOG"], *minutes, bucket, None, Timeframe.minute)
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


@pytest.mark.parametrize("processes", ["1", "2"])
def test_an_unknown_symbol_is_reported_and_the_others_are_written(
    replay, influx, market_bucket, processes
):
    result = cli(replay, "--symbols", "GOOG,NOPE", "--start", "2012-01-01", "--end",
                 "2012-03-31", "--bucket", market_bucket, "--no-kafka",
                 "--processes", processes)  # fmt: skip
    assert result.returncode == 1
    assert "error: 1 of 2 symbols failed (the others were written):" in result.stderr
    assert "NOPE: no bars from 2012-01-01 00:00 to 2012-03-31 00:00 UTC" in result.stderr
    assert "Traceback" not in result.stderr
    want = expected(replay, "GOOG", "1Day", "2012-01-01", "2012-03-31")
    assert stored(influx, market_bucket, "GOOG", "1Day") == want
    assert stored(influx, market_bucket, "NOPE", "1Day") == {}


def test_daily_appends_the_latest_completed_bars(
    replay, gather_settings, influx, market_bucket, unique_name, read_topic
):
    bucket, topic = market_bucket, unique_name
    history = gather(gather_settings, ["SP500", "NASDAQ"], "2018-06-01", "2018-06-29", bucket,
                     topic)  # fmt: skip
    assert history.failed == {}
    # At noon on 3 July the bar of 2 July is complete and the bar of 3 July is not; at noon on
    # 5 July the bar of 3 July is (4 July is a holiday) and the bar of 5 July is not.
    days = (("2018-07-03T12:00:00Z", "2018-07-02"), ("2018-07-05T12:00:00Z", "2018-07-03"))
    for as_of, last in days:
        daily = cli(replay, "--daily", "--as-of", as_of, "--bucket", bucket, "--topic", topic)
        assert daily.returncode == 0, daily.stderr
        for symbol in ("SP500", "NASDAQ"):
            want = expected(replay, symbol, "1Day", "2018-06-01", last)
            assert stored(influx, bucket, symbol, "1Day") == want
            assert len(want) == history.results[symbol].bars + (1 if last == "2018-07-02" else 2)
    records = read_topic(topic, history.bars + 5)
    assert len(records) == history.bars + 4  # only the appended bars went to Kafka again

    # Nothing more is complete by then: a second daily run appends nothing.
    again = cli(replay, "--daily", "--as-of", as_of, "--bucket", bucket, "--no-kafka")
    assert again.returncode == 0, again.stderr
    assert "gathered 0 bars of 2 symbols" in again.stderr

    # A symbol the bucket does not have yet gets its latest completed bar only.
    new = cli(replay, "--daily", "--as-of", as_of, "--symbols", "ADJX", "--bucket", bucket,
              "--no-kafka")  # fmt: skip
    assert new.returncode == 0, new.stderr
    adjx = stored(influx, bucket, "ADJX", "1Day")
    assert adjx == expected(replay, "ADJX", "1Day", "2018-07-03", "2018-07-03")
