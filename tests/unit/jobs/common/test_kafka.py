"""jobs.common.kafka: SQL literals, the Kafka tables, the missing-topic error (no Flink or
Kafka needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from jobs.common.kafka import (
    TRANSACTION_TIMEOUT_MS,
    analytics_sink_ddl,
    kafka_json_source_options,
    missing_topic_error,
    own_transactions,
    printable,
    sql_string,
    with_options,
)
from streamlines.errors import UserError

REPO = Path(__file__).resolve().parents[4]
PREFIX = re.compile(r"'sink.transactional-id-prefix' ?= ?'([^']+)'")


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


def test_sources_read_only_committed_records():
    """The analytics topics are written in transactions: a source reading one must skip what an
    aborted transaction left (a job's restart from a checkpoint aborts what it wrote after it)."""
    options = kafka_json_source_options("k:1", "t", "g", startup_mode="earliest-offset",
                                        bounded=False)  # fmt: skip
    assert options["properties.isolation.level"] == "read_committed"


def test_the_analytics_sink_is_keyed_by_symbol():
    ddl = analytics_sink_ddl("out_table", "k:1", "analytics.x")
    assert ddl.startswith("CREATE TABLE out_table (")
    assert "'topic' = 'analytics.x'" in ddl
    assert "'key.fields' = 'symbol'" in ddl


def test_an_encoded_sink_takes_each_record_as_the_job_wrote_it():
    ddl = analytics_sink_ddl("out_table", "k:1", "analytics.x", encoded=True)
    assert "symbol STRING,\n  record BYTES\n)" in ddl
    assert "'value.format' = 'raw'" in ddl
    assert "'value.fields-include' = 'EXCEPT_KEY'" in ddl  # the symbol is the key only
    assert "'key.fields' = 'symbol'" in ddl


def test_an_exactly_once_sink_has_a_prefix_per_submission():
    assert "'sink.delivery-guarantee' = 'at-least-once'" in analytics_sink_ddl("t", "k:1", "x")
    ddl = analytics_sink_ddl("out_table", "k:1", "analytics.x", exactly_once=True)
    assert "'sink.delivery-guarantee' = 'exactly-once'" in ddl
    again = analytics_sink_ddl("out_table", "k:1", "analytics.x", exactly_once=True)
    prefixes = {PREFIX.search(d).group(1) for d in (ddl, again)}  # type: ignore[union-attr]
    # Two submissions writing one topic at once must not fence each other's producers.
    assert len(prefixes) == 2
    assert all(p.startswith("streamlines-out_table-analytics.x-") for p in prefixes)


def test_every_insert_gets_a_transactional_id_prefix_of_its_own():
    """Each INSERT is a sink of its own; Flink refuses two with one prefix."""
    inserts = own_transactions(
        ["INSERT INTO out_table\nSELECT 1", "INSERT INTO out_table SELECT 2"], "out_table", "a.x"
    )
    prefixes = [PREFIX.search(i).group(1) for i in inserts]  # type: ignore[union-attr]
    assert len(set(prefixes)) == 2
    assert inserts[0].startswith("INSERT INTO out_table /*+ OPTIONS(")
    assert inserts[0].endswith("*/\nSELECT 1")
    with pytest.raises(ValueError, match="not an INSERT INTO out_table"):
        own_transactions(["INSERT INTO other SELECT 1"], "out_table", "a.x")


def test_the_transaction_timeout_is_one_a_default_broker_accepts():
    """Flink's sink asks for 1 h unless told; a broker refuses more than its
    transaction.max.timeout.ms, 15 min by default. It must still exceed a checkpoint's longest
    wait: the interval plus the checkpoint timeout of flink-conf/config.yaml."""
    ddl = analytics_sink_ddl("out_table", "k:1", "analytics.x", exactly_once=True)
    assert f"'properties.transaction.timeout.ms' = '{TRANSACTION_TIMEOUT_MS}'" in ddl
    config = yaml.safe_load((REPO / "flink-conf" / "config.yaml").read_text())
    checkpoint_s = _seconds(config["execution.checkpointing.interval"]) + _seconds(
        config["execution.checkpointing.timeout"]
    )
    assert checkpoint_s * 1000 < TRANSACTION_TIMEOUT_MS <= 15 * 60 * 1000


def _seconds(duration: str) -> int:
    number, unit = re.fullmatch(r"(\d+)\s*(s|min)", duration).groups()  # type: ignore[union-attr]
    return int(number) * (60 if unit == "min" else 1)


def test_a_missing_topic_names_the_option_that_fixes_it():
    error = missing_topic_error("trades", "t1", "--trades-topic")
    assert isinstance(error, UserError)
    assert "trades topic t1 does not exist" in str(error)
    assert "fix: check --trades-topic" in str(error)


SECURED = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "PLAIN",
    "sasl.jaas.config": 'M required username="u" password="p\'w";',
    "ssl.truststore.type": "PEM",
    "ssl.truststore.location": "/etc/kafka/ca.pem",
}


def test_every_kafka_table_carries_the_clients_security_properties():
    source = kafka_json_source_options(
        "b:9094", "t", "g", startup_mode="earliest-offset", bounded=False, properties=SECURED
    )
    for key, value in SECURED.items():
        assert source[f"properties.{key}"] == value
    assert source["properties.bootstrap.servers"] == "b:9094"
    sink = analytics_sink_ddl("out", "b:9094", "t", exactly_once=True, properties=SECURED)
    # The JAAS config's quote is doubled in the SQL literal, as sql_string does.
    assert "'properties.sasl.jaas.config' = 'M required username=\"u\" password=\"p''w\";'" in sink
    assert "'properties.ssl.truststore.location' = '/etc/kafka/ca.pem'" in sink
    plain = kafka_json_source_options("b:1", "t", "g", startup_mode="x", bounded=False)
    assert not [key for key in plain if key.startswith("properties.s")]


def test_printed_sql_masks_the_login():
    sink = analytics_sink_ddl("out", "b:9094", "t", properties=SECURED)
    shown = printable(sink, SECURED)
    assert "password" not in shown
    assert "'properties.sasl.jaas.config' = '******'" in shown
    assert "'properties.security.protocol' = 'SASL_SSL'" in shown
