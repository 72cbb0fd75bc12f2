"""Running the currents job: leave out missing input topics, build the environment, run the
SQL and the per-bar records (Python) as one job."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common.environment import build_environment, execute
from jobs.common.kafka import analytics_row_type, printable
from jobs.common.sources import known_topics
from jobs.currents.options import Options, parse_args
from jobs.currents.process import KEY_TYPE, BarIndicators, series_key
from jobs.currents.sql import SINK_TABLE, python_input_query, script, statements
from jobs.currents.topics import present_topics
from streamlines.errors import reporting_user_errors


def job_name(opts: Options) -> str:
    return " ".join(["currents", *filter(None, (opts.history_topic, opts.live_topic))])


def run(opts: Options) -> None:
    if opts.print_sql:
        print(printable(script(opts), opts.kafka_properties), end="")
        return
    opts, warnings = present_topics(
        opts, known_topics(opts, "currents-topics", (opts.history_topic, opts.live_topic))
    )
    for warning in warnings:
        print(f"currents: {warning}", file=sys.stderr)
    stream_env, table_env = build_environment(opts, job_name(opts))
    ddl, inserts = statements(opts)
    for statement in ddl:
        table_env.execute_sql(statement)
    sma_periods = opts.all_sma_periods()
    bars = table_env.to_data_stream(table_env.sql_query(python_input_query(sma_periods)))
    per_bar = (
        bars.key_by(series_key, key_type=KEY_TYPE)
        .process(BarIndicators(opts.bar_config(), sma_periods), output_type=analytics_row_type())
        .name("per-bar records and recursive indicators (Python)")
        .uid("currents-per-bar")
    )
    statement_set = table_env.create_statement_set()
    for insert in inserts:
        statement_set.add_insert_sql(insert)
    statement_set.add_insert(SINK_TABLE, table_env.from_data_stream(per_bar))
    statement_set.attach_as_datastream()
    execute(stream_env, job_name(opts), opts)


def main(argv: Sequence[str] | None = None) -> None:
    with reporting_user_errors():
        run(parse_args(argv))
