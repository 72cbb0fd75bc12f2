"""jobs.flink_sql: what the Flink SQL jobs share (no Flink or Kafka needed)."""

from __future__ import annotations

import argparse

import pytest

from jobs.flink_sql import (
    add_run_arguments,
    analytics_sink_ddl,
    bootstrap_and_group_id,
    kafka_json_source_options,
    missing_topic_error,
    sql_string,
    with_options,
)
from streamlines.jobs_cli import available_jobs


def test_it_is_not_a_job_of_its_own():
    assert "flink_sql" not in available_jobs()
    assert {"ripples", "currents"} <= set(available_jobs())


def test_sql_strings_double_their_quotes():
    assert sql_string("it's") == "'it''s'"
    assert with_options({"a": "b", "c'": "d"}) == "  'a' = 'b',\n  'c''' = 'd'"


def test_a_bounded_source_stops_at_the_latest_offsets():
    streaming = kafka_json_source_options("k:1", "t", "g", startup_mode="group-offsets",
                                          bounded=False)  # fmt: skip
    assert streaming["scan.startup.mode"] == "group-offsets"
    assert (streaming["topic"], streaming["properties.group.id"]) == ("t", "g")
    assert "scan.bounded.mode" not in streaming
    bounded = kafka_json_source_options("k:1", "t", "g", startup_mode="earliest-offset",
                                        bounded=True)  # fmt: skip
    assert bounded["scan.bounded.mode"] == "latest-offset"


def test_the_analytics_sink_is_keyed_by_symbol():
    ddl = analytics_sink_ddl("out_table", "k:1", "analytics.x")
    assert ddl.startswith("CREATE TABLE out_table (")
    assert "'topic' = 'analytics.x'" in ddl
    assert "'key.fields' = 'symbol'" in ddl


def parse(argv: list[str]) -> tuple[str, str]:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser, "job")
    return bootstrap_and_group_id(parser, parser.parse_args(argv), "job")


def test_group_id_is_the_jobs_name_or_new_per_bounded_run():
    assert parse(["--bootstrap", "k:1"]) == ("k:1", "job")
    assert parse(["--bootstrap", "k:1", "--group-id", "g", "--bounded"]) == ("k:1", "g")
    _, first = parse(["--bootstrap", "k:1", "--bounded"])
    _, second = parse(["--bootstrap", "k:1", "--bounded"])
    assert first.startswith("job-")
    assert first != second


def test_bootstrap_is_required_on_a_cluster():
    with pytest.raises(SystemExit):
        parse([])


def test_a_missing_topic_names_the_option_that_fixes_it():
    error = missing_topic_error("trades", "t1", "--trades-topic")
    assert isinstance(error, SystemExit)
    assert "trades topic t1 does not exist" in str(error)
    assert "fix: check --trades-topic" in str(error)
