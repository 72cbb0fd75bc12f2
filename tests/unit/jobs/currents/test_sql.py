"""jobs.currents.sql: the SQL the job runs (no Flink needed)."""

from __future__ import annotations

import re

from jobs.currents.options import Options, parse_args
from jobs.currents.sql import (
    VOLATILITY_INSERT,
    bars_all_view,
    bollinger_view,
    kafka_source_options,
    python_input_query,
    source_ddl,
    statements,
)


def test_both_topics_are_read_from_the_start_and_history_always_finishes():
    opts = Options(bootstrap="k:1")
    history = kafka_source_options(opts, "h", history=True)
    live = kafka_source_options(opts, "l", history=False)
    assert history["scan.startup.mode"] == live["scan.startup.mode"] == "earliest-offset"
    assert history["scan.bounded.mode"] == "latest-offset"
    assert "scan.bounded.mode" not in live
    # Idle, either source would let the watermark past bars that are still to come.
    assert "scan.watermark.idle-timeout" not in history
    assert "scan.watermark.idle-timeout" not in live
    bounded = kafka_source_options(Options(bootstrap="k:1", bounded=True), "l", history=False)
    assert bounded["scan.bounded.mode"] == "latest-offset"


def test_from_time_starts_the_live_topic_there_and_leaves_the_history_whole():
    opts = parse_args(["--bootstrap", "k:1", "--from-time", "1700000000000"])
    live = kafka_source_options(opts, "l", history=False)
    history = kafka_source_options(opts, "h", history=True)
    assert live["scan.startup.mode"] == "timestamp"
    assert live["scan.startup.timestamp-millis"] == "1700000000000"
    assert history["scan.startup.mode"] == "earliest-offset"
    assert "scan.startup.timestamp-millis" not in history


def test_history_watermark_is_held_and_live_has_the_out_of_orderness():
    history, live = source_ddl(Options(bootstrap="k:1", out_of_orderness_s=7))
    assert "WATERMARK FOR ts AS TO_TIMESTAMP_LTZ(0, 3)" in history
    assert "adj_close DOUBLE" in history
    assert "WATERMARK FOR ts AS ts - INTERVAL '7' SECOND" in live


def test_history_price_is_the_adjusted_close_when_there_is_one():
    view = bars_all_view(Options(bootstrap="k:1"))
    assert "COALESCE(adj_close, `close`) AS price" in view
    assert "UNION ALL" in view


def test_sma_view_has_one_window_per_period_and_the_python_input_every_sma():
    opts = parse_args(["--bootstrap", "k:1", "--sma", "20", "--crossovers", "sma:5:30"])
    ddl, inserts = statements(opts)
    view = next(s for s in ddl if "VIEW bars_sma" in s)
    frames = re.findall(r"ROWS BETWEEN (\d+) PRECEDING", view)
    assert sorted(map(int, frames)) == [4, 19, 29]
    assert "price, sma_5, sma_20, sma_30, middle, std FROM" in python_input_query(
        opts.all_sma_periods()
    )
    # The per-bar records and the crossovers are written by the Python function: SQL inserts
    # only the volatility rounds.
    assert inserts == [VOLATILITY_INSERT]


def test_bollinger_view_is_two_pass_over_the_window_and_carries_the_smas():
    view = bollinger_view(20, [20, 50])
    assert view.count("LAG(price,") == 19
    assert "LAG(price, 19)" in view
    assert "STDDEV" not in view
    assert "/ 20) AS std" in view
    assert "FROM bars_sma" in view
    assert "x0 AS price, sma_20, sma_50, x0 + m AS middle" in view


def test_volatility_rounds_are_minute_hops_over_24_hours_of_minute_bars():
    assert "HOP(TABLE minute_bars, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '24' HOUR)" in (
        VOLATILITY_INSERT
    )
    ddl, inserts = statements(Options(bootstrap="k:1"))
    assert VOLATILITY_INSERT in inserts
    assert any("WHERE timeframe = '1Min'" in s for s in ddl)
