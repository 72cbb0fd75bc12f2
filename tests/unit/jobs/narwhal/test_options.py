"""jobs.narwhal.options: the command line (no Flink needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.narwhal.options import ModelSpec, parse_args
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.contracts.topics import (
    TOPIC_BARS,
    TOPIC_BARS_HISTORY,
    TOPIC_CURRENTS,
    TOPIC_PREDICTIONS,
)

MODEL_ID = "goog-daily-20250101T000000-abcdef"


def test_defaults_use_the_contract_topics():
    opts = parse_args(["--bootstrap", "kafka:9092", "--model", MODEL_ID])
    assert (opts.history_topic, opts.live_topic, opts.indicators_topic, opts.output_topic) == (
        TOPIC_BARS_HISTORY,
        TOPIC_BARS,
        TOPIC_CURRENTS,
        TOPIC_PREDICTIONS,
    )
    assert opts.model == ModelSpec("id", MODEL_ID)
    assert (opts.model_dir, opts.timeframe, opts.reload_seconds) == (None, None, 60)
    assert opts.group_id == "narwhal"
    assert not opts.bounded


def test_model_id_latest_and_path():
    assert parse_args(["--bootstrap", "k:1", "--model-id", MODEL_ID]).model == ModelSpec(
        "id", MODEL_ID
    )
    latest = parse_args(["--bootstrap", "k:1", "--model", "latest:goog-daily"]).model
    assert latest == ModelSpec("latest", "goog-daily")
    assert str(latest) == "latest:goog-daily"
    path = parse_args(["--bootstrap", "k:1", "--model-path", "some/model.tar.gz"]).model
    assert path == ModelSpec("path", str(Path("some/model.tar.gz").resolve()))


def test_run_options_topics_and_timeframe_are_parsed():
    opts = parse_args(
        ["--bootstrap", "k:1", "--model", MODEL_ID, "--model-dir", "store", "--timeframe",
         "1Min", "--reload-seconds", "5", "--history-topic", "", "--live-topic", "l",
         "--indicators-topic", "i", "--output-topic", "o", "--bounded", "--parallelism", "2"]
    )  # fmt: skip
    assert opts.model_dir == Path("store").resolve()
    assert (opts.timeframe, opts.reload_seconds) == (BarTimeframe.MINUTE_1, 5)
    assert (opts.history_topic, opts.live_topic, opts.indicators_topic, opts.output_topic) == (
        None, "l", "i", "o",
    )  # fmt: skip
    assert opts.bounded
    assert opts.parallelism == 2
    assert opts.group_id.startswith("narwhal-")  # a bounded run gets its own group


def test_print_sql_needs_no_model_but_a_timeframe():
    opts = parse_args(["--print-sql", "--timeframe", "1Day"])
    assert opts.model is None
    assert opts.timeframe == BarTimeframe.DAY_1
    with pytest.raises(SystemExit):
        parse_args(["--print-sql"])


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no model
        ["--model", MODEL_ID, "--model-path", "m.tar.gz"],
        ["--model", "latest:"],
        ["--model", " "],
        ["--model", MODEL_ID, "--timeframe", "1Week"],
        ["--model", MODEL_ID, "--reload-seconds", "0"],
    ],
)
def test_bad_options_are_refused(argv):
    with pytest.raises(SystemExit):
        parse_args(["--bootstrap", "k:1", *argv])


def test_bootstrap_is_required_on_a_cluster():
    with pytest.raises(SystemExit):
        parse_args(["--model", MODEL_ID])
