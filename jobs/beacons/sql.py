"""The Flink SQL of the beacons job: the sources, the dead-letter and output tables, the daily
closes, and each symbol's closes joined with the index's on the same days.

What SQL cannot say stays in Python (``process.py``): checking a fundamental against the schema
and against the ones already known, and the per-symbol book (``book.py``), whose records change
when a late or restated input arrives — a temporal join emits each day once, when its
watermark passes, and never revisits it.
"""

from __future__ import annotations

from jobs.beacons.options import Options
from jobs.common.kafka import (
    analytics_sink_ddl,
    client_properties,
    sql_string,
    with_options,
)
from jobs.common.sources import json_source_options
from streamlines.contracts.timeframes import BarTimeframe

SINK_TABLE = "beacons"
DEAD_LETTER_TABLE = "fundamentals_dead_letters"
FACTS_VIEW = "facts"  # the checked fundamentals, registered from Python (job.py)

BARS_DDL = """CREATE TABLE bars_history (
  symbol STRING,
  timeframe STRING,
  t_ns BIGINT,
  `close` DOUBLE,
  adj_close DOUBLE
) WITH (
{with_options}
)"""

# The fundamentals as raw text: each record is checked in Python, and one that does not fit
# goes to the dead-letter topic as it was received, with the reason.
FUNDAMENTALS_DDL = """CREATE TABLE fundamentals_raw (
  payload STRING
) WITH (
{with_options}
)"""

DEAD_LETTER_DDL = """CREATE TABLE {table} (
  payload STRING
) WITH (
{with_options}
)"""

# Daily bars only; the adjusted close where the bar has one (history), for returns across
# splits and dividends. A filter keeps out bars the schema would reject.
VIEW_DAILY = f"""CREATE TEMPORARY VIEW daily_bars AS
SELECT symbol, t_ns, `close`, COALESCE(adj_close, `close`) AS adj_close
FROM bars_history
WHERE timeframe = '{BarTimeframe.DAY_1.value}' AND symbol IS NOT NULL AND t_ns > 0
  AND `close` > 0 AND (adj_close IS NULL OR adj_close > 0)"""

# Every input of the per-symbol book, one row type: a symbol's bar, the index's adjusted close
# on one of the symbol's days (an inner join on the day: each side's bars are kept in state,
# a few thousand rows per symbol for daily bars), and a checked fundamental.
INPUTS_QUERY = """SELECT symbol, 'bar' AS kind, t_ns, `close`, adj_close,
  CAST(NULL AS STRING) AS payload
FROM daily_bars
UNION ALL
SELECT b.symbol, 'index' AS kind, b.t_ns, CAST(NULL AS DOUBLE) AS `close`, i.adj_close,
  CAST(NULL AS STRING) AS payload
FROM daily_bars AS b JOIN daily_bars AS i ON b.t_ns = i.t_ns
WHERE i.symbol = {index}
UNION ALL
SELECT symbol, 'fact' AS kind, t_ns, CAST(NULL AS DOUBLE) AS `close`,
  CAST(NULL AS DOUBLE) AS adj_close, payload
FROM {facts}"""


def source_options(opts: Options, topic: str) -> dict[str, str]:
    """Both topics from their beginning (a run rebuilds every book; a restore from a
    checkpoint resumes at its offsets instead); up to the latest offsets with ``--bounded``."""
    return json_source_options(opts, topic, startup_mode="earliest-offset", bounded=opts.bounded)


def raw_options(options: dict[str, str]) -> dict[str, str]:
    """``options`` with the record read as one raw string instead of JSON."""
    raw = {k: v for k, v in options.items() if not k.startswith("json.")}
    return raw | {"format": "raw"}


def dead_letter_options(opts: Options) -> dict[str, str]:
    return {
        "connector": "kafka",
        "topic": opts.dead_letter_topic,
        "properties.bootstrap.servers": opts.bootstrap,
        "format": "raw",
        "sink.delivery-guarantee": "at-least-once",
        **client_properties(opts.kafka_properties),
    }


def statements(opts: Options) -> list[str]:
    """The DDL, in the order the job executes it."""
    return [
        BARS_DDL.format(with_options=with_options(source_options(opts, opts.bars_topic))),
        FUNDAMENTALS_DDL.format(
            with_options=with_options(raw_options(source_options(opts, opts.fundamentals_topic)))
        ),
        analytics_sink_ddl(
            SINK_TABLE, opts.bootstrap, opts.output_topic, properties=opts.kafka_properties
        ),
        DEAD_LETTER_DDL.format(
            table=DEAD_LETTER_TABLE, with_options=with_options(dead_letter_options(opts))
        ),
        VIEW_DAILY,
    ]


def inputs_query(opts: Options) -> str:
    return INPUTS_QUERY.format(index=sql_string(opts.index_symbol), facts=FACTS_VIEW)


def script(opts: Options) -> str:
    """Every statement in the order the job runs them, for ``--print-sql``."""
    python = (
        f"-- {FACTS_VIEW}: fundamentals_raw checked in Python (process.py), the rest to "
        f"{DEAD_LETTER_TABLE}\n-- The per-symbol book (Python) reads, and writes to "
        f"{SINK_TABLE}:\n{inputs_query(opts)}"
    )
    return ";\n\n".join([*statements(opts), python]) + ";\n"
