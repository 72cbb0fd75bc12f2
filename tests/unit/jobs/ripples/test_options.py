"""jobs.ripples.options: the command line (no Flink needed)."""

from __future__ import annotations

import pytest

from jobs.ripples.options import parse_args
from streamlines.contracts.topics import TOPIC_QUOTES, TOPIC_RIPPLES, TOPIC_TRADES


def test_defaults_use_the_schema_topics():
    opts = parse_args(["--bootstrap", "kafka:9092"])
    assert (opts.trades_topic, opts.quotes_topic, opts.output_topic) == (
        TOPIC_TRADES,
        TOPIC_QUOTES,
        TOPIC_RIPPLES,
    )
    assert opts.bootstrap == "kafka:9092"
    assert not opts.bounded
    assert opts.group_id == "ripples"


def test_bootstrap_is_required_on_a_cluster():
    with pytest.raises(SystemExit):
        parse_args([])


@pytest.mark.parametrize(
    "flag", ["--out-of-orderness", "--idle-timeout", "--parallelism", "--from-time"]
)
def test_durations_and_parallelism_must_be_positive(flag):
    with pytest.raises(SystemExit):
        parse_args(["--bootstrap", "k:1", flag, "0"])
