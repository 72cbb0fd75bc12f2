"""jobs.currents: argument parsing, topic checks and the SQL it builds (no Flink needed)."""

from __future__ import annotations

import re

import pytest

from jobs.currents_lib.options import CrossoverSpec, Options, parse_args
from jobs.currents_lib.sql import (
    VOLATILITY_INSERT,
    bars_all_view,
    bollinger_view,
    kafka_source_options,
    sma_insert,
    source_ddl,
    statements,
)
from jobs.currents_lib.topics import MissingTopicError, present_topics
from streamlines.contracts.topics import TOPIC_BARS, TOPIC_BARS_HISTORY, TOPIC_CURRENTS
from streamlines.jobs_cli import available_jobs


def test_defaults_use_the_schema_topics_and_the_usual_periods():
    opts = parse_args(["--bootstrap", "kafka:9092"])
    assert (opts.history_topic, opts.live_topic, opts.output_topic) == (
        TOPIC_BARS_HISTORY,
        TOPIC_BARS,
        TOPIC_CURRENTS,
    )
    assert (opts.sma_periods, opts.ema_periods, opts.rsi_period) == ((20, 50, 200),) * 2 + (14,)
    assert (opts.bollinger_period, opts.bollinger_k, opts.macd) == (20, 2.0, (12, 26, 9))
    assert [str(c) for c in opts.crossovers] == ["sma:50:200", "ema:12:26"]
    assert opts.group_id == "currents"
    assert not opts.bounded


def test_bootstrap_is_required_on_a_cluster():
    with pytest.raises(SystemExit):
        parse_args([])


def test_bounded_run_gets_its_own_group():
    assert parse_args(["--bootstrap", "k:1", "--bounded"]).group_id.startswith("currents-")


def test_periods_and_crossovers_are_parsed_and_checked():
    opts = parse_args(
        ["--bootstrap", "k:1", "--sma", "50,10,50", "--ema", "9", "--macd", "5,35,5",
         "--crossovers", "ema:5:35, sma:10:50", "--bollinger", "30", "--bollinger-k", "2.5"]
    )  # fmt: skip
    assert (opts.sma_periods, opts.ema_periods, opts.macd) == ((10, 50), (9,), (5, 35, 5))
    assert opts.crossovers == (CrossoverSpec("ema", 5, 35), CrossoverSpec("sma", 10, 50))
    assert (opts.bollinger_period, opts.bollinger_k) == (30, 2.5)
    assert parse_args(["--bootstrap", "k:1", "--crossovers", ""]).crossovers == ()


@pytest.mark.parametrize(
    "argv",
    [
        ["--sma", "1"],
        ["--ema", "x"],
        ["--sma", ""],
        ["--rsi", "0"],
        ["--macd", "26,12,9"],
        ["--macd", "12,26"],
        ["--crossovers", "sma:200:50"],
        ["--crossovers", "wma:5:10"],
        ["--bollinger", "101"],
        ["--bollinger-k", "0"],
        ["--out-of-orderness", "0"],
    ],
)
def test_bad_options_are_refused(argv):
    with pytest.raises(SystemExit):
        parse_args(["--bootstrap", "k:1", *argv])


def test_recursive_config_gets_the_ema_pairs_and_sql_the_sma_pairs():
    opts = parse_args(["--bootstrap", "k:1", "--sma", "20", "--crossovers", "sma:5:30,ema:3:8"])
    config = opts.recursive_config()
    assert config.ema_crossovers == ((3, 8),)
    assert config.all_ema_periods() == [3, 8, 12, 20, 26, 50, 200]
    assert opts.sma_crossovers() == [CrossoverSpec("sma", 5, 30)]
    assert opts.all_sma_periods() == [5, 20, 30]


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


def test_history_watermark_is_held_and_live_has_the_out_of_orderness():
    history, live = source_ddl(Options(bootstrap="k:1", out_of_orderness_s=7))
    assert "WATERMARK FOR ts AS TO_TIMESTAMP_LTZ(0, 3)" in history
    assert "adj_close DOUBLE" in history
    assert "WATERMARK FOR ts AS ts - INTERVAL '7' SECOND" in live


def test_history_price_is_the_adjusted_close_when_there_is_one():
    view = bars_all_view(Options(bootstrap="k:1"))
    assert "COALESCE(adj_close, `close`) AS price" in view
    assert "UNION ALL" in view


def test_sma_view_has_one_window_per_period_and_writes_only_the_asked_ones():
    opts = parse_args(["--bootstrap", "k:1", "--sma", "20", "--crossovers", "sma:5:30"])
    ddl, inserts = statements(opts)
    view = next(s for s in ddl if "VIEW bars_sma" in s)
    frames = re.findall(r"ROWS BETWEEN (\d+) PRECEDING", view)
    assert sorted(map(int, frames)) == [4, 19, 29]
    assert "'sma_20', sma_20" in sma_insert(opts.sma_periods)
    assert "'sma_5'" not in sma_insert(opts.sma_periods)
    assert any("cross_sma5_sma30_" in s for s in inserts)


def test_bollinger_view_is_two_pass_over_the_window():
    view = bollinger_view(20)
    assert view.count("LAG(price,") == 19
    assert "LAG(price, 19)" in view
    assert "STDDEV" not in view
    assert "/ 20) AS std" in view


def test_no_crossover_views_without_sma_pairs():
    ddl, inserts = statements(parse_args(["--bootstrap", "k:1", "--crossovers", "ema:12:26"]))
    assert not any("sma_cross" in s for s in ddl + inserts)


def test_volatility_rounds_are_minute_hops_over_24_hours_of_minute_bars():
    assert "HOP(TABLE minute_bars, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '24' HOUR)" in (
        VOLATILITY_INSERT
    )
    ddl, inserts = statements(Options(bootstrap="k:1"))
    assert VOLATILITY_INSERT in inserts
    assert any("WHERE timeframe = '1Min'" in s for s in ddl)


def test_a_missing_history_topic_is_left_out():
    opts, warnings = present_topics(Options(bootstrap="k:1"), {TOPIC_BARS})
    assert opts.history_topic is None
    assert opts.live_topic == TOPIC_BARS
    assert warnings == [f"history topic {TOPIC_BARS_HISTORY} does not exist: left out"]
    assert len(source_ddl(opts)) == 1
    assert "bars_history" not in bars_all_view(opts)


def test_a_missing_live_topic_is_an_error_unless_bounded():
    with pytest.raises(MissingTopicError, match="live topic"):
        present_topics(Options(bootstrap="k:1"), {TOPIC_BARS_HISTORY})
    opts, _ = present_topics(Options(bootstrap="k:1", bounded=True), {TOPIC_BARS_HISTORY})
    assert opts.live_topic is None
    with pytest.raises(MissingTopicError, match="neither"):
        present_topics(Options(bootstrap="k:1", bounded=True), set())


def test_jobs_submit_knows_currents_and_not_its_parts():
    jobs = available_jobs()
    assert "currents" in jobs
    assert not any(job.startswith("currents_") for job in jobs)
