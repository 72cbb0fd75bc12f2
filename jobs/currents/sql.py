"""The Flink SQL of the currents job: sources, the ordered and de-duplicated bar series, their
SMAs and Bollinger middle and deviation (the input of the per-bar Python function, which writes
them) and the 24-hour volatility rounds (see ``jobs.currents``).

The statements are the constants below, ``{name}`` placeholders filled in with ``str.format``.
Where a statement has one column or term per configured period (the SMAs, the Bollinger
window's terms), a small function repeats its fragment; to read a job's statements whole,
``python -m jobs.currents --print-sql [options]``.
"""

from __future__ import annotations

import textwrap

from jobs.common.kafka import (
    analytics_sink_ddl,
    with_options,
)
from jobs.common.sources import json_source_options
from jobs.currents.options import Options
from streamlines.contracts.metrics import METRIC_VOLATILITY, VOLATILITY_TIMEFRAME
from streamlines.contracts.time import NS_PER_MINUTE

SINK_TABLE = "currents"  # the INSERTs below name it

# The history watermark stays at the epoch until that source has been read to its end: gather
# writes several symbols at once, each in time order but years apart from the others, so any
# bounded out-of-orderness would drop most of it as late. Held back, the OVER windows
# downstream sort the whole history by event time, then go on with the live bars.
HISTORY_DDL = """CREATE TABLE bars_history (
  symbol STRING,
  timeframe STRING,
  t_ns BIGINT,
  `close` DOUBLE,
  adj_close DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS TO_TIMESTAMP_LTZ(0, 3)
) WITH (
{with_options}
)"""

LIVE_DDL = """CREATE TABLE bars_live (
  symbol STRING,
  timeframe STRING,
  t_ns BIGINT,
  `close` DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS ts - INTERVAL '{out_of_orderness_s}' SECOND
) WITH (
{with_options}
)"""

# History bars carry the split/dividend-adjusted close; live bars (and history without it) the
# close as traded. A filter keeps out bars the schema would reject. The view bars_all is the
# UNION ALL of the two (or the one there is).
HISTORY_BARS = """SELECT symbol, timeframe, t_ns, COALESCE(adj_close, `close`) AS price, ts
FROM bars_history
WHERE symbol IS NOT NULL AND timeframe IS NOT NULL AND t_ns > 0 AND `close` > 0
  AND (adj_close IS NULL OR adj_close > 0)"""
LIVE_BARS = """SELECT symbol, timeframe, t_ns, `close` AS price, ts
FROM bars_live
WHERE symbol IS NOT NULL AND timeframe IS NOT NULL AND t_ns > 0 AND `close` > 0"""

# Each (symbol, timeframe) is one series; every OVER window below is over one series in event
# time. Here each series in event-time order, a bar that repeats its predecessor's millisecond
# dropped (the same bar gathered twice, or in both topics: the first to arrive is kept). ROWS
# frame, so that each repeat sees the row before it; after this, times are unique within a
# series, which the LAG (a RANGE frame) in the Bollinger view relies on.
VIEW_BARS = """CREATE TEMPORARY VIEW bars AS
SELECT symbol, timeframe, t_ns, price, ts FROM (
  SELECT symbol, timeframe, t_ns, price, ts,
    CASE WHEN COUNT(*) OVER w = 2 THEN FIRST_VALUE(t_ns / 1000000) OVER w END AS previous_ms
  FROM bars_all
  WINDOW w AS (
    PARTITION BY symbol, timeframe ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW
  )
)
WHERE previous_ms IS NULL OR previous_ms <> t_ns / 1000000"""

# bars_sma: the bars with sma_<n> for each period n, null for the first n - 1 bars. One OVER
# window per period (Flink needs one window per OVER operator), each layer around the last.
SMA_BARS = "SELECT symbol, timeframe, t_ns, price, ts FROM bars"
SMA_LAYER = """SELECT *, CASE WHEN COUNT(*) OVER w = {n} THEN AVG(price) OVER w END AS sma_{n}
FROM (
{query}
)
WINDOW w AS (
  PARTITION BY symbol, timeframe ORDER BY ts ROWS BETWEEN {preceding} PRECEDING AND CURRENT ROW
)"""
VIEW_SMA = "CREATE TEMPORARY VIEW bars_sma AS\n{query}"

# bars_bollinger: middle = the mean of the last n prices and std = their population deviation,
# two-pass over the n values (the current price x0 and d<k> = the price k bars before minus x0,
# k = 1 .. n - 1): the differences from x0 are exact, so n equal prices give exactly 0. The mean
# of the differences is m = (d1 + ... + d<n-1>) / n, the middle x0 + m, and the squares
# m * m + (d1 - m) * (d1 - m) + ... (see bollinger_view).
#
# Not STDDEV_POP: Flink computes it as sqrt((sum(x^2) - sum(x)^2 / n) / n), with the sums
# updated by adding the new row and retracting the oldest, so its rounding accumulates over the
# series and the subtraction cancels most digits when the deviation is small next to the price
# (measured on the S&P 500 daily closes: 3e-10 relative; on a DECIMAL cast, Flink rounds the
# squares to 6 decimals: 7e-9).
#
# Over bars_sma, so that one row carries every value SQL computes for a bar: the input of the
# per-bar Python function (``process.py``).
VIEW_BOLLINGER = """CREATE TEMPORARY VIEW bars_bollinger AS
SELECT symbol, timeframe, t_ns, x0 AS price{smas}, x0 + m AS middle,
  SQRT(({squares}) / {n}) AS std
FROM (
  SELECT *, ({differences}) / {n} AS m FROM (
    SELECT symbol, timeframe, t_ns, price AS x0{smas}{lags}
    FROM bars_sma
    WINDOW w AS (PARTITION BY symbol, timeframe ORDER BY ts)
  )
)"""
BOLLINGER_LAG = ",\n    LAG(price, {k}) OVER w - price AS d{k}"

# 1-minute bars with d = price - the symbol's first minute close: the deviation of d is the
# deviation of the price, and the small differences keep the sum-of-squares formula from
# cancelling digits (as in ripples' price_std).
VIEW_MINUTE_BARS = f"""CREATE TEMPORARY VIEW minute_bars AS
SELECT symbol, price, ts, price - anchor AS d FROM (
  SELECT symbol, price, ts,
    FIRST_VALUE(price) OVER (
      PARTITION BY symbol ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS anchor
  FROM bars
  WHERE timeframe = '{VOLATILITY_TIMEFRAME}'
)"""

# The sample deviation: null for one bar, exactly 0 for equal prices (the sum-of-squares formula
# leaves a rounding residue there, even a negative one, whose square root STDDEV_SAMP would
# return: a tiny number or NaN).
STD = """CASE WHEN COUNT(*) < 2 THEN NULL WHEN MIN(price) = MAX(price) THEN 0 ELSE
      SQRT(GREATEST(SUM(d * d) - SUM(d) * SUM(d) / COUNT(*), 0) / (COUNT(*) - 1))
    END"""

# Every minute T (a hopping window's end), for every symbol with a bar in [T - 24 h, T): the
# sample deviation of those bars' closes. Window ends are whole minutes, so t_ns is exact.
VOLATILITY_INSERT = f"""INSERT INTO currents
SELECT symbol, '{METRIC_VOLATILITY}',
  CAST(TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', window_end) AS BIGINT)
    * {NS_PER_MINUTE},
  MAP[
    'std', {STD},
    'mean', AVG(price),
    'count', CAST(COUNT(*) AS DOUBLE),
    'rel_std', {STD} / AVG(price)
  ]
FROM TABLE(HOP(TABLE minute_bars, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '24' HOUR))
GROUP BY symbol, window_start, window_end"""


def kafka_source_options(opts: Options, topic: str, *, history: bool) -> dict[str, str]:
    """Both topics are read from their beginning: the indicators are recursive, so a run
    rebuilds each series from its first bar (a restore from a checkpoint or savepoint resumes at
    the checkpointed offsets instead). The live topic starts at ``--from-time`` instead when
    given (a replay that starts again from its first day). The history topic is always read up
    to its end offsets at start and then finishes; the live one too with ``--bounded``."""
    from_time = None if history else opts.from_time_ms
    options = json_source_options(
        opts,
        topic,
        startup_mode="earliest-offset" if from_time is None else "timestamp",
        bounded=history or opts.bounded,
        from_time_ms=from_time,
    )
    # No idle timeout on either source. An idle history source would let the live watermark
    # past bars it has not read yet; and once the history source has finished (its watermark is
    # then the end of time), an idle live source, as it is between two minutes' bars, would let
    # that through, and every later live bar would be late.
    return options


def source_ddl(opts: Options) -> list[str]:
    ddl = []
    if opts.history_topic is not None:
        options = kafka_source_options(opts, opts.history_topic, history=True)
        ddl.append(HISTORY_DDL.format(with_options=with_options(options)))
    if opts.live_topic is not None:
        options = kafka_source_options(opts, opts.live_topic, history=False)
        ddl.append(
            LIVE_DDL.format(
                out_of_orderness_s=opts.out_of_orderness_s, with_options=with_options(options)
            )
        )
    return ddl


def sink_ddl(opts: Options) -> str:
    return analytics_sink_ddl(
        SINK_TABLE, opts.bootstrap, opts.output_topic, properties=opts.kafka_properties
    )


def bars_all_view(opts: Options) -> str:
    parts = [
        query
        for topic, query in ((opts.history_topic, HISTORY_BARS), (opts.live_topic, LIVE_BARS))
        if topic is not None
    ]
    if not parts:
        raise ValueError("the currents job needs the history topic, the live topic or both")
    return "CREATE TEMPORARY VIEW bars_all AS\n" + "\nUNION ALL\n".join(parts)


def python_input_query(sma_periods: list[int]) -> str:
    """The input of the per-bar Python function (``process.py``)."""
    smas = "".join(f", sma_{n}" for n in sma_periods)
    return f"SELECT symbol, timeframe, t_ns, price{smas}, middle, std FROM bars_bollinger"


def sma_view(periods: list[int]) -> str:
    """``bars_sma``: one SMA_LAYER per period around SMA_BARS."""
    query = SMA_BARS
    for n in periods:
        query = SMA_LAYER.format(n=n, query=textwrap.indent(query, "  "), preceding=n - 1)
    return VIEW_SMA.format(query=query)


def bollinger_view(n: int, sma_periods: list[int]) -> str:
    """``bars_bollinger`` of the last ``n`` prices (``n - 1`` LAG terms), with the SMAs."""
    ks = range(1, n)
    return VIEW_BOLLINGER.format(
        n=n,
        smas="".join(f", sma_{p}" for p in sma_periods),
        lags="".join(BOLLINGER_LAG.format(k=k) for k in ks),
        differences=" + ".join(f"d{k}" for k in ks),
        squares=" + ".join(["m * m", *(f"(d{k} - m) * (d{k} - m)" for k in ks)]),
    )


def statements(opts: Options) -> tuple[list[str], list[str]]:
    """(DDL to execute, INSERTs to run together with the per-bar Python function as one
    job)."""
    ddl = [
        *source_ddl(opts),
        sink_ddl(opts),
        bars_all_view(opts),
        VIEW_BARS,
        sma_view(opts.all_sma_periods()),
        bollinger_view(opts.bollinger_period, opts.all_sma_periods()),
        VIEW_MINUTE_BARS,
    ]
    return ddl, [VOLATILITY_INSERT]


def script(opts: Options) -> str:
    """Every statement of the job in the order it runs them, for ``--print-sql``."""
    ddl, inserts = statements(opts)
    python = (
        "-- The per-bar records (Python, process.py) read, and write to currents:\n"
        + python_input_query(opts.all_sma_periods())
    )
    return ";\n\n".join([*ddl, python, *inserts]) + ";\n"
