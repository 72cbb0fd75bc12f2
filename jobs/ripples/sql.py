"""The Flink SQL of the ripples job: the two sources, the analytics sink, and one INSERT of
every metric through the ``trade_analytics`` function (see ``jobs.ripples``). The statements are the
constants below; ``{name}`` placeholders are filled in with ``str.format``."""

from __future__ import annotations

from jobs.common.functions import TRADE_ANALYTICS_DDL
from jobs.common.kafka import (
    analytics_sink_ddl,
    own_transactions,
    with_options,
)
from jobs.common.sources import json_source_options, reads_kafka
from jobs.ripples.options import Options

SINK_TABLE = "ripples"

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

# Trades and quotes as one table for TRADE_ANALYTICS_INSERT: a filter keeps out trades the
# schema would reject.
VIEW_MARKET_EVENTS = """CREATE TEMPORARY VIEW market_events AS
SELECT symbol, t_ns, FALSE AS is_quote, price, size,
  CAST(NULL AS DOUBLE) AS bid_price, CAST(NULL AS DOUBLE) AS ask_price, ts
FROM trades
WHERE symbol IS NOT NULL AND t_ns > 0 AND price > 0 AND size >= 0
UNION ALL
SELECT symbol, t_ns, TRUE, CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), bid_price, ask_price, ts
FROM quotes
WHERE symbol IS NOT NULL AND t_ns > 0"""

# Every metric of a symbol from one process table function (TradeAnalytics.java): each
# symbol's rows in event-time order, its 1-second and 1-minute bars, each trade's 5-minute
# rolling statistics (running sums each trade enters at its millisecond and leaves 5 min + 1 ms
# later) and its as-of spread. Flink SQL did the same with eight operators and three keyed
# exchanges: OVER windows for the previous price and the anchor (whose ROWS operator scans every
# waiting timestamp of its symbol per row), a RANGE OVER window over entry and exit rows, two
# tumbling windows, a deduplication and a temporal join that re-sorts its state on every firing;
# the function gives the same records at ~2x the rate (README, "Peers"). It writes each
# record's JSON itself: Flink's JSON format built a tree of nodes per record, a fifth of the
# job's CPU.
TRADE_ANALYTICS_INSERT = """INSERT INTO ripples
SELECT symbol, record
FROM trade_analytics(input => TABLE market_events PARTITION BY symbol)"""


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
        encoded=True,
    )


def statements(opts: Options) -> tuple[list[str], list[str]]:
    """(DDL to execute, INSERTs to run together as one job)."""
    ddl = [*source_ddl(opts), sink_ddl(opts), TRADE_ANALYTICS_DDL, VIEW_MARKET_EVENTS]
    inserts = [TRADE_ANALYTICS_INSERT]
    if opts.exactly_once:  # in Kafka transactions of its own
        inserts = own_transactions(inserts, SINK_TABLE, opts.output_topic)
    return ddl, inserts


def script(opts: Options) -> str:
    """Every statement of the job in the order it runs them, for ``--print-sql``."""
    ddl, inserts = statements(opts)
    return ";\n\n".join([*ddl, *inserts]) + ";\n"
