"""Running the beacons job: the SQL sources and sinks, the fundamentals checked in Python,
the per-symbol books, as one job."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pyflink.common import Types
from pyflink.table import DataTypes, Schema

from jobs.beacons.options import Options, parse_args
from jobs.beacons.process import DEAD_LETTERS, Beacons, CheckFundamentals, fact_row_type
from jobs.beacons.sql import (
    DEAD_LETTER_TABLE,
    FACTS_VIEW,
    SINK_TABLE,
    inputs_query,
    script,
    statements,
)
from jobs.common.environment import build_environment, execute
from jobs.common.kafka import (
    analytics_row_type,
    missing_topic_error,
    printable,
)
from jobs.common.sources import known_topics
from streamlines.errors import reporting_user_errors


def job_name(opts: Options) -> str:
    return f"beacons {opts.bars_topic} {opts.fundamentals_topic}"


def check_topics(opts: Options, existing: set[str]) -> None:
    """Both input topics must exist: a Kafka source bounded at the latest offsets never
    finishes on one that does not, and a streaming one would wait forever."""
    for topic, option in (
        (opts.bars_topic, "--bars-topic"),
        (opts.fundamentals_topic, "--fundamentals-topic"),
    ):
        if topic not in existing:
            raise missing_topic_error("input", topic, option)


def run(opts: Options) -> None:
    if opts.print_sql:
        print(printable(script(opts), opts.kafka_properties), end="")
        return
    inputs = (opts.bars_topic, opts.fundamentals_topic)
    check_topics(opts, known_topics(opts, "beacons-topics", inputs))
    stream_env, table_env = build_environment(opts, job_name(opts))
    for statement in statements(opts):
        table_env.execute_sql(statement)
    source = f"{opts.fundamentals_topic} (beacons)"
    checked = (
        table_env.to_data_stream(table_env.from_path("fundamentals_raw"))
        .process(CheckFundamentals(source), output_type=fact_row_type())
        .name("check fundamentals (Python)")
        .uid("beacons-check-fundamentals")
    )
    facts_schema = (
        Schema.new_builder()
        .column("symbol", DataTypes.STRING())
        .column("t_ns", DataTypes.BIGINT())
        .column("payload", DataTypes.STRING())
        .build()
    )
    table_env.create_temporary_view(FACTS_VIEW, table_env.from_data_stream(checked, facts_schema))
    books = (
        table_env.to_data_stream(table_env.sql_query(inputs_query(opts)))
        .key_by(lambda row: row.symbol, key_type=Types.STRING())
        .process(Beacons(opts.flush_interval_s * 1000, source), output_type=analytics_row_type())
        .name("beacons book (Python)")
        .uid("beacons-book")
    )
    dead_letters = checked.get_side_output(DEAD_LETTERS).union(books.get_side_output(DEAD_LETTERS))
    statement_set = table_env.create_statement_set()
    statement_set.add_insert(SINK_TABLE, table_env.from_data_stream(books))
    statement_set.add_insert(
        DEAD_LETTER_TABLE,
        table_env.from_data_stream(
            dead_letters, Schema.new_builder().column("f0", DataTypes.STRING()).build()
        ),
    )
    statement_set.attach_as_datastream()
    print(f"beacons: index {opts.index_symbol}, writing {opts.output_topic}", file=sys.stderr)
    execute(stream_env, job_name(opts), opts)


def main(argv: Sequence[str] | None = None) -> None:
    with reporting_user_errors():
        run(parse_args(argv))
