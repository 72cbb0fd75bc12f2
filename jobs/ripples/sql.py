"""The Flink SQL of the ripples job: the two sources, the analytics sink, the trades in
event-time order, and one INSERT per metric (see ``jobs.ripples``). The statements are the
constants below; ``{name}`` placeholders are filled in with ``str.format``."""

from __future__ import annotations

from jobs.common.kafka import (
    analytics_sink_ddl,
    own_transactions,
    with_options,
)
from jobs.common.sources import json_source_options, reads_kafka
from jobs.ripples.options import Options
from streamlines.contracts.metrics import (
    METRIC_BAR_1M,
    METRIC_BAR_1S,
    METRIC_ROLLING,
    METRIC_SPREAD,
)
from streamlines.contracts.time import NS_PER_SECOND

SINK_TABLE = "ripples"
ROLLING_WINDOW_MS = 5 * 60 * 1000

TRADES_DDL = """CREATE TABLE trades (
  symbol STRING,
  t_ns BIGINT,
  price DOUBLE,
  size DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS ts - INTERVAL '{out_of_orderness_s}' SECOND
) WITH (
{with_options}
)"""

QUOTES_DDL = """CREATE TABLE quotes (
  symbol STRING,
  t_ns BIGINT,
  bid_price DOUBLE,
  ask_price DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS ts - INTERVAL '{out_of_orderness_s}' SECOND
) WITH (
{with_options}
)"""

# Trades in event-time order (an OVER window sorts by the watermark), with the previous price
# and the symbol's first price (the anchor the price deviation is measured from, see
# ROLLING_INSERT). ROWS frames (not LAG, whose frame is RANGE) so that trades in the same
# millisecond each get their own predecessor, in arrival order. A filter keeps out trades the
# schema would reject. The job makes the views trades_seq and trades_seq_exits of it.
TRADES_SEQ_QUERY = """SELECT symbol, t_ns, price, size, ts, prev_price,
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

# The event time at which a trade leaves the 5-minute window: 5 min + 1 ms after its own (the
# first millisecond whose window no longer holds it), see ROLLING_INSERT.
EXIT_TS = f"TO_TIMESTAMP_LTZ(t_ns / 1000000 + {ROLLING_WINDOW_MS + 1}, 3)"

# The latest quote per symbol as a versioned view (deduplication on event time keeps the newest).
VIEW_QUOTES_VERSIONED = """CREATE TEMPORARY VIEW quotes_versioned AS
SELECT symbol, bid_price, ask_price, ts FROM (
  SELECT symbol, bid_price, ask_price, ts,
    ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY ts DESC) AS rn
  FROM quotes
  WHERE symbol IS NOT NULL AND t_ns > 0
) WHERE rn = 1"""

# Tumbling-window OHLCV bars of {seconds}; t_ns = the window end in ns ({width} = its length).
BARS_INSERT = """INSERT INTO ripples
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
# Both streams are one computation of trades_seq (see job.register_trades_seq), so every trade
# that enters also leaves. The sums are the ones Flink's own retracting AVG/STDDEV_SAMP keep; the
# deviation of a price is taken of price - anchor, which stays small (Flink's formula,
# sqrt((sum(x^2) - sum(x)^2 / n) / (n - 1)), loses digits when the mean is large next to the
# deviation), and rounding below zero is clamped to zero.
ROLLING_INSERT = """INSERT INTO ripples
SELECT symbol, '{metric}', t_ns,
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

SPREAD_INSERT = """INSERT INTO ripples
SELECT t.symbol, '{metric}', t.t_ns,
  MAP[
    'bid', q.bid_price,
    'ask', q.ask_price,
    'spread', q.ask_price - q.bid_price,
    'mid', (q.bid_price + q.ask_price) / 2
  ]
FROM trades_seq AS t
LEFT JOIN quotes_versioned FOR SYSTEM_TIME AS OF t.ts AS q
ON t.symbol = q.symbol"""


def kafka_source_options(opts: Options, topic: str) -> dict[str, str]:
    if opts.from_time_ms is not None:
        startup_mode = "timestamp"
    else:
        startup_mode = "earliest-offset" if opts.bounded else "group-offsets"
    options = json_source_options(
        opts, topic, startup_mode=startup_mode, bounded=opts.bounded,
        from_time_ms=opts.from_time_ms,
    )  # fmt: skip
    if reads_kafka(opts):
        options["properties.auto.offset.reset"] = "earliest"
    options["scan.watermark.idle-timeout"] = f"{opts.idle_timeout_s}s"
    return options


def source_ddl(opts: Options) -> list[str]:
    return [
        TRADES_DDL.format(
            out_of_orderness_s=opts.out_of_orderness_s,
            with_options=with_options(kafka_source_options(opts, opts.trades_topic)),
        ),
        QUOTES_DDL.format(
            out_of_orderness_s=opts.out_of_orderness_s,
            with_options=with_options(kafka_source_options(opts, opts.quotes_topic)),
        ),
    ]


def sink_ddl(opts: Options) -> str:
    return analytics_sink_ddl(
        SINK_TABLE,
        opts.bootstrap,
        opts.output_topic,
        exactly_once=opts.exactly_once,
        properties=opts.kafka_properties,
    )


def bars_sql(metric: str, seconds: int) -> str:
    """INSERT of tumbling-window OHLCV bars of ``seconds``; ``t_ns`` = window end in ns."""
    return BARS_INSERT.format(metric=metric, width=seconds * NS_PER_SECOND, seconds=seconds)


def statements(opts: Options) -> tuple[list[str], list[str]]:
    """(DDL to execute, INSERTs to run together as one job); the INSERTs also read the views
    the job makes of TRADES_SEQ_QUERY (``job.register_trades_seq``)."""
    ddl = [*source_ddl(opts), sink_ddl(opts), VIEW_QUOTES_VERSIONED]
    inserts = [
        bars_sql(METRIC_BAR_1S, 1),
        bars_sql(METRIC_BAR_1M, 60),
        ROLLING_INSERT.format(metric=METRIC_ROLLING),
        SPREAD_INSERT.format(metric=METRIC_SPREAD),
    ]
    if opts.exactly_once:  # each INSERT in Kafka transactions of its own
        inserts = own_transactions(inserts, SINK_TABLE, opts.output_topic)
    return ddl, inserts


def script(opts: Options) -> str:
    """Every statement of the job in the order it runs them, for ``--print-sql``."""
    ddl, inserts = statements(opts)
    views = (
        "-- Views trades_seq (event time ts) and trades_seq_exits (event time exit_ts =\n"
        f"-- {EXIT_TS}) over one DataStream of:\n{TRADES_SEQ_QUERY}"
    )
    return ";\n\n".join([*ddl, views, *inserts]) + ";\n"
