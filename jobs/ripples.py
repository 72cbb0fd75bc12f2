"""ripples: per-symbol streaming analytics from trades and quotes, in Flink SQL (PyFlink).

Reads ``market.trades`` and ``market.quotes`` (the wire format of ``contracts.events``: JSON
keyed by symbol, event time ``t_ns`` in UTC nanoseconds) in event time. Watermarks allow
``--out-of-orderness`` (default 2 s) of disorder; a partition that is quiet for ``--idle-timeout``
is marked idle so it does not hold everyone's watermark back. Writes JSON records keyed by
symbol to ``analytics.ripples``, each ``{"symbol", "metric", "t_ns", "values": {...}}``:

``bar_1s`` / ``bar_1m``
    Tumbling-window OHLCV bars, final when the window closes. ``t_ns`` is the window end
    (exclusive), ``values``: open, high, low, close, volume (sum of sizes),
    vwap (sum(price * size) / sum(size)), count (trades).
``rolling_5m``
    At each trade (``t_ns`` = its event time): over the trades of that symbol in the 5 minutes
    up to and including it (the frame of ``RANGE BETWEEN INTERVAL '5' MINUTE PRECEDING AND
    CURRENT ROW``, both ends inclusive, in milliseconds): price_mean, price_std, price_count, and
    the same of the log return ``ln(price / previous price)``: ret_mean, ret_std, ret_count.
    Standard deviations are *sample* (n - 1) deviations, null with fewer than two values
    (price_std is taken of price minus the symbol's first price, the same value with fewer
    digits lost in the sum-of-squares formula). Computed as running sums that each trade enters
    at its time and leaves 5 min + 1 ms later (see ``ROLLING_SQL``): Flink's own RANGE-PRECEDING
    operator costs O(trades in the window) per trade. The first trade
    of a symbol has no previous price, so its log return is null and is left out of the return
    statistics.
``spread``
    At each trade (``t_ns`` = its event time): the latest quote of that symbol at or before it
    (event-time temporal join ``FOR SYSTEM_TIME AS OF``): bid, ask, spread = ask - bid,
    mid = (bid + ask) / 2. Null values when the symbol has had no quote yet.

Event time inside Flink has millisecond precision (``t_ns / 1e6``, floored), so "order" means
millisecond order: trades within the same millisecond of one symbol are taken in arrival order
(for open/close and the previous price; the 5-minute RANGE window of each of them includes all
of that millisecond's trades, as SQL's RANGE does), and a quote in the same millisecond as a
trade counts as "at or before" it (the last one to arrive, if several). Trades are put into
event-time order (an OVER window) before the bars are built, so a late trade within the
watermark bound still becomes its bar's open or close when it is the earliest or latest.

The out-of-orderness bound is event time. It is also the wall-clock slack the two sources get for
reading at slightly different moments (a quote read after the watermark passed its trade misses
the as-of join): 2 s on the live feed is 2 s of slack, but on a replay at 60x speed it is 33 ms,
so ``streamlines demo`` scales the bound with the replay speed.

Delivery to the output topic is at-least-once (a restart from a checkpoint may repeat records);
``(symbol, metric, t_ns)`` identifies a record, so a consumer or a time-series store that writes
by that key overwrites rather than duplicates.

Runs as ``flink run -py jobs/ripples.py --bootstrap HOST:PORT [...]`` on a cluster (whose
config turns checkpointing on; this job turns it on too when the config has not), or as
``python -m jobs.ripples --local`` on a mini-cluster. ``--bounded`` reads each topic up to its
latest offset at start and then ends (for tests and backfills); both topics must exist then.
An unbounded run resumes its consumer group; ``--from-time EPOCH_MS`` starts instead at the
records written since then, as ``streamlines demo`` does: a fresh replay starts again from its
first day, so an earlier run's records would put the watermark ahead of it and the job would
drop the new feed as late (``FlinkService.late_records_dropped`` counts what it drops).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from jobs.flink_sql import (
    add_run_arguments,
    analytics_sink_ddl,
    bootstrap_and_group_id,
    existing_topics,
    kafka_connector_jar_uris,
    kafka_json_source_options,
    missing_topic_error,
    positive_int,
    with_options,
)
from streamlines.contracts.topics import TOPIC_QUOTES, TOPIC_RIPPLES, TOPIC_TRADES

METRIC_BAR_1S = "bar_1s"
METRIC_BAR_1M = "bar_1m"
METRIC_ROLLING = "rolling_5m"
METRIC_SPREAD = "spread"
METRICS = (METRIC_BAR_1S, METRIC_BAR_1M, METRIC_ROLLING, METRIC_SPREAD)

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class Options:
    bootstrap: str
    trades_topic: str = TOPIC_TRADES
    quotes_topic: str = TOPIC_QUOTES
    output_topic: str = TOPIC_RIPPLES
    group_id: str = "ripples"
    bounded: bool = False
    local: bool = False
    out_of_orderness_s: int = 2
    idle_timeout_s: int = 5
    checkpoint_interval_s: int = 10
    parallelism: int | None = None
    from_time_ms: int | None = None


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="ripples", description="Per-symbol bars, rolling statistics and spreads (Flink SQL)."
    )
    parser.add_argument("--trades-topic", default=TOPIC_TRADES)
    parser.add_argument("--quotes-topic", default=TOPIC_QUOTES)
    parser.add_argument("--output-topic", default=TOPIC_RIPPLES)
    add_run_arguments(parser, "ripples")
    parser.add_argument("--idle-timeout", type=positive_int, default=5, metavar="SECONDS")
    parser.add_argument(
        "--from-time",
        type=positive_int,
        default=None,
        metavar="EPOCH_MS",
        help="start at the first record written to Kafka at or after this time (Unix ms), "
        "e.g. when a replay restarts from its first day (older records would put the "
        "watermark ahead of it); default: where the consumer group stopped, the start for a "
        "new group",
    )
    args = parser.parse_args(argv)
    bootstrap, group_id = bootstrap_and_group_id(parser, args, "ripples")
    return Options(
        bootstrap=bootstrap,
        trades_topic=args.trades_topic,
        quotes_topic=args.quotes_topic,
        output_topic=args.output_topic,
        group_id=group_id,
        bounded=args.bounded,
        local=args.local,
        out_of_orderness_s=args.out_of_orderness,
        idle_timeout_s=args.idle_timeout,
        checkpoint_interval_s=args.checkpoint_interval,
        parallelism=args.parallelism,
        from_time_ms=args.from_time,
    )


def check_input_topics(opts: Options, existing: set[str]) -> None:
    """Both input topics exist (in ``existing``), or a MissingTopicError names the one that
    does not and the fix."""
    for kind, topic, option in (
        ("trades", opts.trades_topic, "--trades-topic"),
        ("quotes", opts.quotes_topic, "--quotes-topic"),
    ):
        if topic not in existing:
            raise missing_topic_error(kind, topic, option)


def kafka_source_options(opts: Options, topic: str) -> dict[str, str]:
    if opts.from_time_ms is not None:
        startup_mode = "timestamp"
    else:
        startup_mode = "earliest-offset" if opts.bounded else "group-offsets"
    options = kafka_json_source_options(
        opts.bootstrap, topic, opts.group_id, startup_mode=startup_mode, bounded=opts.bounded
    )
    if opts.from_time_ms is not None:
        options["scan.startup.timestamp-millis"] = str(opts.from_time_ms)
    options["properties.auto.offset.reset"] = "earliest"
    options["scan.watermark.idle-timeout"] = f"{opts.idle_timeout_s}s"
    return options


def source_ddl(opts: Options) -> list[str]:
    watermark = f"WATERMARK FOR ts AS ts - INTERVAL '{opts.out_of_orderness_s}' SECOND"
    trades = f"""CREATE TABLE trades (
  symbol STRING,
  t_ns BIGINT,
  price DOUBLE,
  size DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  {watermark}
) WITH (
{with_options(kafka_source_options(opts, opts.trades_topic))}
)"""
    quotes = f"""CREATE TABLE quotes (
  symbol STRING,
  t_ns BIGINT,
  bid_price DOUBLE,
  ask_price DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  {watermark}
) WITH (
{with_options(kafka_source_options(opts, opts.quotes_topic))}
)"""
    return [trades, quotes]


def sink_ddl(opts: Options) -> str:
    return analytics_sink_ddl("ripples", opts.bootstrap, opts.output_topic)


# Trades in event-time order (an OVER window sorts by the watermark), with the previous price
# and the symbol's first price (the anchor the price deviation is measured from, see ROLLING_SQL).
# ROWS frames (not LAG, whose frame is RANGE) so that trades in the same millisecond each get
# their own predecessor, in arrival order. A filter keeps out trades the schema would reject.
TRADES_SEQ_SQL = """SELECT symbol, t_ns, price, size, ts, prev_price,
  FIRST_VALUE(price) OVER (
    PARTITION BY symbol ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS anchor
FROM (
  SELECT symbol, t_ns, price, size, ts,
    CASE WHEN COUNT(*) OVER w = 2 THEN FIRST_VALUE(price) OVER w END AS prev_price
  FROM trades
  WHERE symbol IS NOT NULL AND t_ns > 0 AND price > 0 AND size >= 0
  WINDOW w AS (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
)"""

ROLLING_WINDOW_MS = 5 * 60 * 1000
WATERMARK_INTERVAL = "20 ms"

# The latest quote per symbol as a versioned view (deduplication on event time keeps the newest).
VIEW_QUOTES_VERSIONED = """CREATE TEMPORARY VIEW quotes_versioned AS
SELECT symbol, bid_price, ask_price, ts FROM (
  SELECT symbol, bid_price, ask_price, ts,
    ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY ts DESC) AS rn
  FROM quotes
  WHERE symbol IS NOT NULL AND t_ns > 0
) WHERE rn = 1"""


def bars_sql(metric: str, seconds: int) -> str:
    """INSERT of tumbling-window OHLCV bars of ``seconds``; ``t_ns`` = window end in ns."""
    width = seconds * NS_PER_SECOND
    return f"""INSERT INTO ripples
SELECT symbol, '{metric}',
  (MAX(t_ns) / {width} + 1) * {width},
  MAP[
    'open', FIRST_VALUE(price),
    'high', MAX(price),
    'low', MIN(price),
    'close', LAST_VALUE(price),
    'volume', SUM(size),
    'vwap', SUM(price * size) / NULLIF(SUM(size), 0),
    'count', CAST(COUNT(*) AS DOUBLE)
  ]
FROM TABLE(TUMBLE(TABLE trades_seq, DESCRIPTOR(ts), INTERVAL '{seconds}' SECOND))
GROUP BY symbol, window_start, window_end"""


# The 5-minute RANGE window, without Flink's RANGE ... PRECEDING operator: that one scans every
# timestamp in the window on each new one (~3,000 per trade here), which made it the job's
# bottleneck. Instead each trade enters a running sum at its time and leaves it (an "exit" row
# with the negated weight) at its time + 5 min + 1 ms, the first millisecond whose window no
# longer holds it. A RANGE UNBOUNDED PRECEDING window over both streams keeps only the running
# sums, and all rows of one millisecond are summed before any is emitted, so a trade sees exactly
# the trades in [t - 5 min, t], peers in its millisecond included, as SQL's RANGE frame does.
# Both streams are one computation of trades_seq (see register_trades_seq), so every trade that
# enters also leaves. The sums are the ones Flink's own retracting AVG/STDDEV_SAMP keep; the
# deviation of a price is taken of price - anchor, which stays small (Flink's formula,
# sqrt((sum(x^2) - sum(x)^2 / n) / (n - 1)), loses digits when the mean is large next to the
# deviation), and rounding below zero is clamped to zero.
ROLLING_SQL = f"""INSERT INTO ripples
SELECT symbol, '{METRIC_ROLLING}', t_ns,
  MAP[
    'price_mean', price_sum / n,
    'price_std', CASE WHEN n > 1 THEN
      SQRT(GREATEST((dev_sq - dev_sum * dev_sum / n) / (n - 1), 0E0)) END,
    'price_count', n,
    'ret_mean', CASE WHEN ret_n > 0 THEN ret_sum / ret_n END,
    'ret_std', CASE WHEN ret_n > 1 THEN
      SQRT(GREATEST((ret_sq - ret_sum * ret_sum / ret_n) / (ret_n - 1), 0E0)) END,
    'ret_count', ret_n
  ]
FROM (
  SELECT symbol, t_ns, w,
    SUM(w) OVER u AS n,
    SUM(w * price) OVER u AS price_sum,
    SUM(w * dev) OVER u AS dev_sum,
    SUM(w * dev * dev) OVER u AS dev_sq,
    SUM(CASE WHEN log_ret IS NULL THEN 0E0 ELSE w END) OVER u AS ret_n,
    SUM(COALESCE(w * log_ret, 0E0)) OVER u AS ret_sum,
    SUM(COALESCE(w * log_ret * log_ret, 0E0)) OVER u AS ret_sq
  FROM (
    SELECT symbol, t_ns, ts, CAST(1 AS DOUBLE) AS w, price, price - anchor AS dev,
      CASE WHEN prev_price > 0 THEN LN(price / prev_price) END AS log_ret
    FROM trades_seq
    UNION ALL
    SELECT symbol, t_ns, exit_ts AS ts, CAST(-1 AS DOUBLE) AS w, price, price - anchor AS dev,
      CASE WHEN prev_price > 0 THEN LN(price / prev_price) END AS log_ret
    FROM trades_seq_exits
  )
  WINDOW u AS (
    PARTITION BY symbol ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  )
)
WHERE w > 0"""

SPREAD_SQL = f"""INSERT INTO ripples
SELECT t.symbol, '{METRIC_SPREAD}', t.t_ns,
  MAP[
    'bid', q.bid_price,
    'ask', q.ask_price,
    'spread', q.ask_price - q.bid_price,
    'mid', (q.bid_price + q.ask_price) / 2
  ]
FROM trades_seq AS t
LEFT JOIN quotes_versioned FOR SYSTEM_TIME AS OF t.ts AS q
ON t.symbol = q.symbol"""


def statements(opts: Options) -> tuple[list[str], list[str]]:
    """(DDL to execute, INSERTs to run together as one job); the INSERTs also read the views
    ``register_trades_seq`` makes."""
    ddl = [*source_ddl(opts), sink_ddl(opts), VIEW_QUOTES_VERSIONED]
    inserts = [
        bars_sql(METRIC_BAR_1S, 1),
        bars_sql(METRIC_BAR_1M, 60),
        ROLLING_SQL,
        SPREAD_SQL,
    ]
    return ddl, inserts


def register_trades_seq(env) -> None:  # noqa: ANN001 - pyflink is imported lazily
    """Views ``trades_seq`` (TRADES_SEQ_SQL, event time ``ts``) and ``trades_seq_exits`` (the same
    rows, event time ``exit_ts`` = ``ts`` + 5 min + 1 ms, see ROLLING_SQL) over one computation:
    a DataStream both read, keeping its watermarks (``SOURCE_WATERMARK()``, which for
    ``exit_ts`` lags by the 5 minutes, so no exit row is ever late)."""
    from pyflink.table import Schema

    stream = env.to_data_stream(env.sql_query(TRADES_SEQ_SQL))
    entries = Schema.new_builder().watermark("ts", "SOURCE_WATERMARK()").build()
    exits = (
        Schema.new_builder()
        .column_by_expression(
            "exit_ts", f"TO_TIMESTAMP_LTZ(t_ns / 1000000 + {ROLLING_WINDOW_MS + 1}, 3)"
        )
        .watermark("exit_ts", "SOURCE_WATERMARK()")
        .build()
    )
    env.create_temporary_view("trades_seq", env.from_data_stream(stream, entries))
    env.create_temporary_view("trades_seq_exits", env.from_data_stream(stream, exits))


def build_environment(opts: Options):  # noqa: ANN201 - pyflink is imported lazily
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import EnvironmentSettings, StreamTableEnvironment

    stream_env = StreamExecutionEnvironment.get_execution_environment()
    if opts.parallelism is not None:
        stream_env.set_parallelism(opts.parallelism)
    env = StreamTableEnvironment.create(stream_env, EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    config.set("table.local-time-zone", "UTC")
    config.set("pipeline.name", f"ripples {opts.trades_topic} {opts.quotes_topic}")
    config.set("table.exec.source.idle-timeout", f"{opts.idle_timeout_s} s")
    if not config.get("execution.checkpointing.interval", ""):
        config.set("execution.checkpointing.interval", f"{opts.checkpoint_interval_s} s")
    # Chained operators hand records on without a copy (+30% throughput: the job copied each
    # row between the source, the projections, the table/stream conversion and the sinks).
    # Safe here: every operator that keeps rows in state (OVER, windows, the temporal join,
    # deduplication) reads them from a keyed exchange, which deserializes fresh objects, and
    # the chained ones only project, filter or serialize.
    if not config.get("pipeline.object-reuse", ""):
        config.set("pipeline.object-reuse", "true")
    # Rows wait in the event-time operators until a watermark passes them, and Flink's ROWS
    # ... PRECEDING OVER operator (previous price) scans every waiting timestamp of a symbol per
    # row, so what piles up between two watermarks costs quadratically: with watermarks every
    # 20 ms instead of Flink's 200 the job is ~25% faster on a backlog (1 s made it 12x
    # slower). flink-conf/config.yaml sets the same for the cluster; this is for runs without it.
    if not config.get("pipeline.auto-watermark-interval", ""):
        config.set("pipeline.auto-watermark-interval", WATERMARK_INTERVAL)
    if opts.parallelism is not None:
        config.set("parallelism.default", str(opts.parallelism))
    if opts.local:
        config.set("pipeline.jars", ";".join(kafka_connector_jar_uris()))
    return env


def run(opts: Options) -> None:
    if opts.bounded:
        # A source bounded at the latest offsets never finishes on a topic that does not exist.
        # (A streaming run waits for its topics: `streamlines demo` submits it before ingest
        # has created them.)
        check_input_topics(opts, existing_topics(opts.bootstrap, client_id="ripples-topics"))
    env = build_environment(opts)
    ddl, inserts = statements(opts)
    for statement in ddl:
        env.execute_sql(statement)
    register_trades_seq(env)
    statement_set = env.create_statement_set()
    for insert in inserts:
        statement_set.add_insert_sql(insert)
    result = statement_set.execute()
    if opts.bounded or opts.local:
        result.wait()


def main(argv: Sequence[str] | None = None) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main()
