"""Running the narwhal job: resolve the model, leave out missing bar topics, build the
environment, then the SQL and the Python function (features and scores) as one job."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace

from jobs.common.environment import build_environment, execute
from jobs.common.kafka import printable
from jobs.common.sources import known_topics
from jobs.narwhal.options import Options, parse_args
from jobs.narwhal.scorer import ActiveModel, ScorerConfig, check_usable, resolve
from jobs.narwhal.sql import SINK_INSERT, VIEW_SCORED, script, statements
from jobs.narwhal.topics import present_topics
from jobs.narwhal.udf import UDF_NAME, score_windows
from streamlines.errors import reporting_user_errors
from streamlines.settings import Settings

# Larger bundles than the cluster's default (5,000 records or 100 ms, set for ripples' latency):
# a bar is scored once its indicators are in, a minute apart, so a second more costs nothing,
# and each bundle's end is a round trip between the JVM and the Python worker. Within a bundle,
# the bars go to Python in Arrow batches of up to 10,000 (the default).
PYTHON_CONFIG = {
    "python.fn-execution.bundle.size": "100000",
    "python.fn-execution.bundle.time": "1000",
}

# Chained operators hand records on without a copy. Safe here: the Java functions get each row
# converted to a new Row and keep only their own objects in state, and the Python operator
# copies the fields it forwards while a bundle is out (AbstractPythonScalarFunctionOperator).
OBJECT_REUSE = {"pipeline.object-reuse": "true"}


def job_name(opts: Options) -> str:
    topics = filter(None, (opts.history_topic, opts.live_topic, opts.indicators_topic))
    return " ".join(["narwhal", str(opts.model), *topics])


def resolve_model(opts: Options, settings: Settings) -> tuple[Options, ActiveModel | None]:
    """``opts`` with the model store and the timeframe filled in, and the model it names now
    (None for ``--print-sql`` without a model); a UserError if the stream cannot score it."""
    model_dir = opts.model_dir or settings.model_store_dir
    active = None
    if opts.model is not None:
        active = resolve(opts.model, model_dir)
        check_usable(active, opts.timeframe)
    timeframe = opts.timeframe or (active.timeframe if active else None)
    return replace(opts, model_dir=model_dir, timeframe=timeframe), active


def scorer_config(opts: Options) -> ScorerConfig:
    assert opts.model is not None
    assert opts.model_dir is not None
    assert opts.timeframe is not None
    return ScorerConfig(opts.model, opts.model_dir, opts.timeframe, opts.reload_seconds)


def run(opts: Options, settings: Settings) -> None:
    opts, active = resolve_model(opts, settings)
    timeframe = opts.timeframe
    assert timeframe is not None
    if opts.print_sql:
        print(printable(script(opts, timeframe), opts.kafka_properties), end="")
        return
    assert active is not None
    assert opts.model is not None
    print(
        f"narwhal: scoring {timeframe} bars with model {active.model_id} "
        f"(horizon {active.horizon})"
        + (f", and its successors ({opts.model})" if opts.model.kind == "latest" else ""),
        file=sys.stderr,
    )
    opts, warnings = present_topics(
        opts,
        known_topics(
            opts, "narwhal-topics", (opts.history_topic, opts.live_topic, opts.indicators_topic)
        ),
    )
    for warning in warnings:
        print(f"narwhal: {warning}", file=sys.stderr)
    stream_env, table_env = build_environment(
        opts, job_name(opts), config=PYTHON_CONFIG, defaults=OBJECT_REUSE
    )
    for statement in statements(opts, timeframe):
        table_env.execute_sql(statement)
    table_env.create_temporary_system_function(UDF_NAME, score_windows(scorer_config(opts)))
    table_env.execute_sql(VIEW_SCORED)
    statement_set = table_env.create_statement_set()
    statement_set.add_insert_sql(SINK_INSERT)
    statement_set.attach_as_datastream()
    execute(stream_env, job_name(opts), opts)


def main(argv: Sequence[str] | None = None) -> None:
    with reporting_user_errors():
        run(parse_args(argv), Settings())
