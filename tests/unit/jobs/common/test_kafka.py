"""jobs.common.kafka: SQL literals, the Kafka tables, the missing-topic error (no Flink or
Kafka needed)."""

from __future__ import annotations

from jobs.common.kafka import (
    analytics_sink_ddl,
    kafka_json_source_options,
    missing_topic_error,
    sql_string,
    with_options,
)
from streamlines.errors import UserError


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


def test_a_missing_topic_names_the_option_that_fixes_it():
    error = missing_topic_error("trades", "t1", "--trades-topic")
    assert isinstance(error, UserError)
    assert "trades topic t1 does not exist" in str(error)
    assert "fix: check --trades-topic" in str(error)
