"""jobs.currents.options: the command line and what it asks of each part (no Flink needed)."""

from __future__ import annotations

import pytest

from jobs.currents.options import CrossoverSpec, parse_args
from streamlines.contracts.topics import TOPIC_BARS, TOPIC_BARS_HISTORY, TOPIC_CURRENTS


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


def test_bar_config_gets_both_kinds_of_pairs_and_sql_every_sma_they_need():
    opts = parse_args(["--bootstrap", "k:1", "--sma", "20", "--crossovers", "sma:5:30,ema:3:8"])
    config = opts.bar_config()
    assert config.sma_periods == (20,)
    assert config.recursive.ema_crossovers == ((3, 8),)
    assert config.recursive.sma_crossovers == ((5, 30),)
    assert config.recursive.all_ema_periods() == [3, 8, 12, 20, 26, 50, 200]
    assert opts.all_sma_periods() == [5, 20, 30]
