"""jobs.ripples.sql: the SQL the job runs (no Flink needed)."""

from __future__ import annotations

import re

from jobs.common.functions import TRADE_ANALYTICS_DDL
from jobs.ripples.options import Options, parse_args
from jobs.ripples.sql import kafka_source_options, sink_ddl, source_ddl, statements
from streamlines.contracts.topics import TOPIC_QUOTES, TOPIC_TRADES


def test_bounded_run_gets_its_own_group_and_reads_from_the_start():
    opts = parse_args(
        ["--bootstrap", "k:1", "--bounded", "--trades-topic", "t", "--quotes-topic", "q"]
    )
    assert opts.group_id.startswith("ripples-")
    source = kafka_source_options(opts, "t")
    assert source["scan.startup.mode"] == "earliest-offset"
    assert source["scan.bounded.mode"] == "latest-offset"


def test_unbounded_run_resumes_from_its_group_and_never_ends():
    source = kafka_source_options(Options(bootstrap="k:1"), TOPIC_TRADES)
    assert source["scan.startup.mode"] == "group-offsets"
    assert "scan.bounded.mode" not in source
    assert source["scan.watermark.idle-timeout"] == "5s"


def test_a_run_from_a_time_starts_at_the_records_written_since():
    opts = parse_args(["--bootstrap", "k:1", "--from-time", "1700000000000"])
    source = kafka_source_options(opts, TOPIC_TRADES)
    assert source["scan.startup.mode"] == "timestamp"
    assert source["scan.startup.timestamp-millis"] == "1700000000000"
    assert "scan.bounded.mode" not in source


def test_sources_have_event_time_watermarks_from_options():
    opts = Options(bootstrap="k:1", out_of_orderness_s=3)
    trades, quotes = source_ddl(opts)
    for ddl in (trades, quotes):
        assert "ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3)" in ddl
        assert "WATERMARK FOR ts AS ts - INTERVAL '3' SECOND" in ddl
    assert f"'topic' = '{TOPIC_TRADES}'" in trades
    assert f"'topic' = '{TOPIC_QUOTES}'" in quotes


def test_sql_literals_are_quoted():
    trades, _ = source_ddl(Options(bootstrap="k:1", trades_topic="it's"))
    assert "'topic' = 'it''s'" in trades


def test_sink_is_keyed_by_symbol():
    ddl = sink_ddl(Options(bootstrap="k:1", output_topic="out"))
    assert "'key.fields' = 'symbol'" in ddl
    assert "'key.format' = 'raw'" in ddl
    assert "'topic' = 'out'" in ddl


def test_every_metric_comes_from_the_one_function_over_trades_and_quotes():
    ddl, inserts = statements(Options(bootstrap="k:1"))
    assert TRADE_ANALYTICS_DDL in ddl
    view = next(statement for statement in ddl if "VIEW market_events" in statement)
    assert "FROM trades" in view
    assert "FROM quotes" in view
    assert "price > 0 AND size >= 0" in view  # trades the schema would reject stay out
    (insert,) = inserts
    assert "TABLE market_events PARTITION BY symbol" in insert


def test_by_default_the_output_is_written_at_least_once_without_transactions():
    _, inserts = statements(Options(bootstrap="k:1"))
    assert "'sink.delivery-guarantee' = 'at-least-once'" in sink_ddl(Options(bootstrap="k:1"))
    assert not any("transactional-id-prefix" in i for i in inserts)
    assert not parse_args(["--bootstrap", "k:1"]).exactly_once


def test_exactly_once_writes_each_insert_in_transactions_of_its_own():
    opts = parse_args(["--bootstrap", "k:1", "--delivery", "exactly-once"])
    _, inserts = statements(opts)
    assert "'sink.delivery-guarantee' = 'exactly-once'" in sink_ddl(opts)
    prefixes = {re.search(r"transactional-id-prefix'='([^']+)'", i).group(1) for i in inserts}  # type: ignore[union-attr]
    assert len(prefixes) == len(inserts)
