"""The Flink SQL of the narwhal job: the bar sources (history, then live), the currents
indicator records, the ordered and de-duplicated bars of the model's timeframe, each indicator
record flattened into the feature inputs it carries, both joined into one row per bar once its
indicators are in, with the bars before it; each bar scored by the Python function
(``udf.py``); the predictions sink.

The statements are the constants below, ``{name}`` placeholders filled in with ``str.format``;
to read a job's statements whole, ``python -m jobs.narwhal --print-sql [options]``.
"""

from __future__ import annotations

from jobs.common.functions import ORDERED_BARS_DDL, PREDICTION_JSON_DDL, SETTLED_BARS_DDL
from jobs.common.kafka import analytics_sink_ddl, sql_string, with_options
from jobs.common.sources import json_source_options
from jobs.narwhal.options import Options
from jobs.narwhal.udf import RESULT_FIELDS, UDF_NAME
from jobs.narwhal.window import BAR_KIND, BAR_VALUES, FAMILIES, INDICATOR_KEYS, LOOKBACK
from ml.features import HISTORY_COLUMNS, INDICATOR_COLUMNS
from streamlines.contracts.indicators import indicators_metric
from streamlines.contracts.timeframes import BarTimeframe

SINK_TABLE = "predictions"

# As in the currents job: the history watermark stays at the epoch until that source has been
# read to its end (gather writes symbols years apart), so ordered_bars below sorts the
# whole history by event time, then goes on with the live bars.
HISTORY_DDL = """CREATE TABLE bars_history (
  symbol STRING,
  timeframe STRING,
  t_ns BIGINT,
  `open` DOUBLE,
  high DOUBLE,
  low DOUBLE,
  `close` DOUBLE,
  volume DOUBLE,
  adj_open DOUBLE,
  adj_high DOUBLE,
  adj_low DOUBLE,
  adj_close DOUBLE,
  adj_volume DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS TO_TIMESTAMP_LTZ(0, 3)
) WITH (
{with_options}
)"""

LIVE_DDL = """CREATE TABLE bars_live (
  symbol STRING,
  timeframe STRING,
  t_ns BIGINT,
  `open` DOUBLE,
  high DOUBLE,
  low DOUBLE,
  `close` DOUBLE,
  volume DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS ts - INTERVAL '{out_of_orderness_s}' SECOND
) WITH (
{with_options}
)"""

# The currents job's records. The Python function does not wait on this watermark (a per-bar
# record settles the bars before it, see window.py); the currents topic starts with its
# history, written symbol after symbol, so the watermark runs ahead of many records.
# ``values`` is read as a ROW of the ``<family>.<field>`` keys of the per-bar records that the
# features use (``rsi.rsi_14``, ...: field names with a dot, quoted; the JSON format matches
# them whole, skips the other keys, and a key a record lacks or has as null is null), not as a
# MAP: no map built per record and no lookup by key per column (the MAP was ~a quarter of the
# source's CPU).
INDICATORS_DDL = """CREATE TABLE indicators (
  symbol STRING,
  metric STRING,
  t_ns BIGINT,
  `values` ROW<{fields}>,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS ts - INTERVAL '{out_of_orderness_s}' SECOND
) WITH (
{with_options}
)"""

# The bar's split/dividend-adjusted values where it has them (history), else the values as
# traded, column by column: what ml.data gives batch scoring, and the prices the currents job
# computes its indicators on. Only the model's timeframe; a filter keeps out bars the schema
# would reject.
HISTORY_BARS = """SELECT symbol, t_ns,
  COALESCE(adj_open, `open`) AS `open`, COALESCE(adj_high, high) AS high,
  COALESCE(adj_low, low) AS low, COALESCE(adj_close, `close`) AS `close`,
  COALESCE(adj_volume, volume) AS volume, ts
FROM bars_history
WHERE timeframe = {timeframe} AND symbol IS NOT NULL AND t_ns > 0 AND `close` > 0
  AND (adj_close IS NULL OR adj_close > 0)"""
LIVE_BARS = """SELECT symbol, t_ns, `open`, high, low, `close`, volume, ts
FROM bars_live
WHERE timeframe = {timeframe} AND symbol IS NOT NULL AND t_ns > 0 AND `close` > 0"""

# Each symbol's bars in event-time order, a bar that repeats an earlier bar's millisecond
# dropped (gathered twice, or in both topics: the first to arrive counts), as currents does with
# an OVER window. A Java function (jobs/java, OrderedBars): Flink's ROWS OVER operator cost
# ~250 µs a bar on a backlog, the job's most expensive JVM operator; the function 15 to 40 µs.
VIEW_BARS = """CREATE TEMPORARY VIEW bars AS
SELECT symbol, t_ns, `open`, high, low, `close`, volume
FROM ordered_bars(input => TABLE bars_all PARTITION BY symbol)"""

# One row per per-bar indicator record of the model's timeframe (the other records of the topic,
# crossovers and volatility, left out): its one family (window.FAMILIES) and the feature inputs
# it carries, ``values``.`<family>.<field>` as each input column of
# ml.features.INDICATOR_COLUMNS.
VIEW_INDICATOR_ROWS = """CREATE TEMPORARY VIEW indicator_rows AS
SELECT symbol, t_ns, {kind} AS kind,{columns},
  ts
FROM indicators
WHERE metric = {metric} AND symbol IS NOT NULL AND t_ns > 0"""
COLUMN = "\n  `values`.`{key}` AS {column}"

# Bars and indicator rows in one table, with the same columns: what settled_bars joins.
VIEW_BAR_AND_INDICATOR_ROWS = """CREATE TEMPORARY VIEW bar_and_indicator_rows AS
SELECT symbol, t_ns, CAST({bar_kind} AS STRING) AS kind, {bar_values},
  {no_indicators}
FROM bars
UNION ALL
SELECT symbol, t_ns, CAST(kind AS STRING), {no_bar_values},
  {indicator_columns}
FROM indicator_rows"""

# Each bar once its indicators are in (window.py's rule, in a Java function, jobs/java
# SettledBars), with the LOOKBACK bars before it (their history columns, the ones features read
# before t): ``times`` and ``values`` (lookback.py reads them), so the Python function after it
# holds no state and gets one record per bar.
VIEW_STREAM_INPUT = """CREATE TEMPORARY VIEW stream_input AS
SELECT symbol, t_ns, times, `values`
FROM settled_bars(input => TABLE bar_and_indicator_rows PARTITION BY symbol,
  families => {families}, lookback => {lookback}, history => {history})"""

# The Python function's predictions (udf.py, registered by job.py as score_windows).
VIEW_SCORED = f"""CREATE TEMPORARY VIEW scored AS
SELECT symbol, t_ns, {", ".join(f"p.`{f}`" for f in RESULT_FIELDS)}
FROM (SELECT symbol, t_ns, {UDF_NAME}(symbol, t_ns, times, `values`) AS p FROM stream_input)"""

# contracts.events.Prediction, JSON keyed by symbol: each record's bytes written by a Java
# function (jobs/java, PredictionJson) into the topic's encoded table (raw value format). Flink's
# JSON format, writing the same records, was a quarter of the CPU of the task that settles,
# scores and writes the bars.
SINK_INSERT = f"""INSERT INTO {SINK_TABLE}
SELECT symbol, prediction_json(symbol, t_ns, model_id, timeframe, horizon, `value`)
FROM scored"""


def kafka_source_options(opts: Options, topic: str, *, history: bool) -> dict[str, str]:
    """Every topic is read from its beginning (the features need each symbol's bars from its
    first, the indicators come with them); the history topic always up to its end offsets at
    start, the others too with ``--bounded``. No idle timeout: an idle source would let the
    bars' watermark past bars still to come."""
    return json_source_options(
        opts, topic, startup_mode="earliest-offset", bounded=history or opts.bounded
    )


def source_ddl(opts: Options) -> list[str]:
    ddl = []
    ooo = opts.out_of_orderness_s
    if opts.history_topic is not None:
        options = kafka_source_options(opts, opts.history_topic, history=True)
        ddl.append(HISTORY_DDL.format(with_options=with_options(options)))
    if opts.live_topic is not None:
        options = kafka_source_options(opts, opts.live_topic, history=False)
        ddl.append(LIVE_DDL.format(out_of_orderness_s=ooo, with_options=with_options(options)))
    options = kafka_source_options(opts, opts.indicators_topic, history=False)
    fields = ", ".join(f"`{key}` DOUBLE" for key in INDICATOR_KEYS.values())
    ddl.append(
        INDICATORS_DDL.format(
            fields=fields, out_of_orderness_s=ooo, with_options=with_options(options)
        )
    )
    return ddl


def sink_ddl(opts: Options) -> str:
    return analytics_sink_ddl(
        SINK_TABLE, opts.bootstrap, opts.output_topic, properties=opts.kafka_properties,
        encoded=True,
    )  # fmt: skip


def bars_all_view(opts: Options, timeframe: BarTimeframe) -> str:
    literal = sql_string(timeframe.value)
    parts = [
        query.format(timeframe=literal)
        for topic, query in ((opts.history_topic, HISTORY_BARS), (opts.live_topic, LIVE_BARS))
        if topic is not None
    ]
    if not parts:
        raise ValueError("the narwhal job needs the history topic, the live topic or both")
    return "CREATE TEMPORARY VIEW bars_all AS\n" + "\nUNION ALL\n".join(parts)


def indicator_rows_view(timeframe: BarTimeframe) -> str:
    (family,) = FAMILIES  # the per-bar record's
    columns = ",".join(COLUMN.format(key=key, column=c) for c, key in INDICATOR_KEYS.items())
    return VIEW_INDICATOR_ROWS.format(
        kind=sql_string(family),
        columns=columns,
        metric=sql_string(indicators_metric(timeframe.value)),
    )


def bar_and_indicator_rows_view() -> str:
    return VIEW_BAR_AND_INDICATOR_ROWS.format(
        bar_kind=sql_string(BAR_KIND),
        bar_values=", ".join(f"`{c}`" for c in BAR_VALUES),
        no_indicators=", ".join(f"CAST(NULL AS DOUBLE) AS {c}" for c in INDICATOR_COLUMNS),
        no_bar_values=", ".join(f"CAST(NULL AS DOUBLE) AS `{c}`" for c in BAR_VALUES),
        indicator_columns=", ".join(INDICATOR_COLUMNS),
    )


def stream_input_view() -> str:
    return VIEW_STREAM_INPUT.format(
        families=sql_string(",".join(FAMILIES)),
        lookback=LOOKBACK,
        history=sql_string(",".join(HISTORY_COLUMNS)),
    )


def statements(opts: Options, timeframe: BarTimeframe) -> list[str]:
    """The DDL the job executes before it registers the Python function, in order."""
    return [
        *source_ddl(opts),
        sink_ddl(opts),
        bars_all_view(opts, timeframe),
        ORDERED_BARS_DDL,
        VIEW_BARS,
        indicator_rows_view(timeframe),
        bar_and_indicator_rows_view(),
        SETTLED_BARS_DDL,
        stream_input_view(),
        PREDICTION_JSON_DDL,
    ]


def script(opts: Options, timeframe: BarTimeframe) -> str:
    """Every statement of the job in the order it runs them, for ``--print-sql``."""
    scoring = (
        f"-- {UDF_NAME}: the features and scores of a batch of bars (Python, pandas, udf.py: "
        "ml.features.feature_frame and ml.artifacts.predict), then:\n" + VIEW_SCORED
    )
    return ";\n\n".join([*statements(opts, timeframe), scoring, SINK_INSERT]) + ";\n"
