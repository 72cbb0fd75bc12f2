"""The Flink SQL of the currents job: sources, the ordered and de-duplicated bar series, SMA,
Bollinger bands, SMA crossovers and the 24-hour volatility rounds (see ``jobs/currents.py``)."""

from __future__ import annotations

from jobs.currents_lib.options import CrossoverSpec, Options
from jobs.currents_lib.recursive import crossover_name
from jobs.flink_sql import analytics_sink_ddl, kafka_json_source_options, sql_string, with_options

SINK_TABLE = "currents"
METRIC_VOLATILITY = "volatility_24h"
VOLATILITY_TIMEFRAME = "1Min"
NS_PER_MINUTE = 60_000_000_000

# Each (symbol, timeframe) is one series; every OVER window below is over one series in event time.
_SERIES = "PARTITION BY symbol, timeframe ORDER BY ts"


def _double(value: float) -> str:
    return f"CAST({sql_string(repr(float(value)))} AS DOUBLE)"


def kafka_source_options(opts: Options, topic: str, *, history: bool) -> dict[str, str]:
    """Both topics are read from their beginning: the indicators are recursive, so a run
    rebuilds each series from its first bar (a restore from a checkpoint or savepoint resumes at
    the checkpointed offsets instead). The history topic is always read up to its end offsets at
    start and then finishes; the live one too with ``--bounded``."""
    options = kafka_json_source_options(
        opts.bootstrap,
        topic,
        opts.group_id,
        startup_mode="earliest-offset",
        bounded=history or opts.bounded,
    )
    # No idle timeout on either source. An idle history source would let the live watermark
    # past bars it has not read yet; and once the history source has finished (its watermark is
    # then the end of time), an idle live source, as it is between two minutes' bars, would let
    # that through, and every later live bar would be late.
    return options


def source_ddl(opts: Options) -> list[str]:
    ddl = []
    if opts.history_topic is not None:
        # The history watermark stays at the epoch until that source has been read to its end:
        # gather writes several symbols at once, each in time order but years apart from the
        # others, so any bounded out-of-orderness would drop most of it as late. Held back, the
        # OVER windows downstream sort the whole history by event time, then go on with the live
        # bars.
        ddl.append(f"""CREATE TABLE bars_history (
  symbol STRING,
  timeframe STRING,
  t_ns BIGINT,
  `close` DOUBLE,
  adj_close DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS TO_TIMESTAMP_LTZ(0, 3)
) WITH (
{with_options(kafka_source_options(opts, opts.history_topic, history=True))}
)""")
    if opts.live_topic is not None:
        ddl.append(f"""CREATE TABLE bars_live (
  symbol STRING,
  timeframe STRING,
  t_ns BIGINT,
  `close` DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS ts - INTERVAL '{opts.out_of_orderness_s}' SECOND
) WITH (
{with_options(kafka_source_options(opts, opts.live_topic, history=False))}
)""")
    return ddl


def sink_ddl(opts: Options) -> str:
    return analytics_sink_ddl(SINK_TABLE, opts.bootstrap, opts.output_topic)


# History bars carry the split/dividend-adjusted close; live bars (and history without it) the
# close as traded. A filter keeps out bars the schema would reject.
_HISTORY_BARS = """SELECT symbol, timeframe, t_ns, COALESCE(adj_close, `close`) AS price, ts
FROM bars_history
WHERE symbol IS NOT NULL AND timeframe IS NOT NULL AND t_ns > 0 AND `close` > 0
  AND (adj_close IS NULL OR adj_close > 0)"""
_LIVE_BARS = """SELECT symbol, timeframe, t_ns, `close` AS price, ts
FROM bars_live
WHERE symbol IS NOT NULL AND timeframe IS NOT NULL AND t_ns > 0 AND `close` > 0"""


def bars_all_view(opts: Options) -> str:
    parts = [
        query
        for topic, query in ((opts.history_topic, _HISTORY_BARS), (opts.live_topic, _LIVE_BARS))
        if topic is not None
    ]
    if not parts:
        raise ValueError("the currents job needs the history topic, the live topic or both")
    return "CREATE TEMPORARY VIEW bars_all AS\n" + "\nUNION ALL\n".join(parts)


# Each series in event-time order, a bar that repeats its predecessor's millisecond dropped (the
# same bar gathered twice, or in both topics: the first to arrive is kept). ROWS frame, so that
# each repeat sees the row before it; after this, times are unique within a series, which the
# LAG (a RANGE frame) in the Bollinger view relies on.
VIEW_BARS = f"""CREATE TEMPORARY VIEW bars AS
SELECT symbol, timeframe, t_ns, price, ts FROM (
  SELECT symbol, timeframe, t_ns, price, ts,
    CASE WHEN COUNT(*) OVER w = 2 THEN FIRST_VALUE(t_ns / 1000000) OVER w END AS previous_ms
  FROM bars_all
  WINDOW w AS ({_SERIES} ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
)
WHERE previous_ms IS NULL OR previous_ms <> t_ns / 1000000"""

# The input of the recursive indicators (``process.py``).
PYTHON_INPUT_QUERY = "SELECT symbol, timeframe, t_ns, price FROM bars"


def sma_view(periods: list[int]) -> str:
    """``bars_sma``: the bars with ``sma_<n>`` for each period, null for the first n - 1 bars.
    One OVER window per period (Flink needs one window per OVER operator), nested."""
    query = "SELECT symbol, timeframe, t_ns, price, ts FROM bars"
    for n in periods:
        query = f"""SELECT *, CASE WHEN COUNT(*) OVER w = {n} THEN AVG(price) OVER w END AS sma_{n}
FROM ({query})
WINDOW w AS ({_SERIES} ROWS BETWEEN {n - 1} PRECEDING AND CURRENT ROW)"""
    return f"CREATE TEMPORARY VIEW bars_sma AS\n{query}"


def bollinger_view(n: int) -> str:
    """``bars_bollinger``: middle = the mean of the last n prices and std = their population
    deviation, two-pass over the n values (the current price x0 and LAG 1 .. n - 1), taken of
    the differences from x0: those are exact, so n equal prices give exactly 0.

    Not STDDEV_POP: Flink computes it as sqrt((sum(x^2) - sum(x)^2 / n) / n), with the sums
    updated by adding the new row and retracting the oldest, so its rounding accumulates over the
    series and the subtraction cancels most digits when the deviation is small next to the price
    (measured on the S&P 500 daily closes: 3e-10 relative; on a DECIMAL cast, Flink rounds the
    squares to 6 decimals: 7e-9)."""
    lags = "".join(f",\n    LAG(price, {k}) OVER w - price AS d{k}" for k in range(1, n))
    total = " + ".join(f"d{k}" for k in range(1, n))
    squares = " + ".join(["m * m", *(f"(d{k} - m) * (d{k} - m)" for k in range(1, n))])
    return f"""CREATE TEMPORARY VIEW bars_bollinger AS
SELECT symbol, timeframe, t_ns, x0 + m AS middle, SQRT(({squares}) / {n}) AS std FROM (
  SELECT *, ({total}) / {n} AS m FROM (
    SELECT symbol, timeframe, t_ns, price AS x0{lags}
    FROM bars
    WINDOW w AS ({_SERIES})
  )
)"""


def crossover_views(specs: list[CrossoverSpec]) -> list[str]:
    """``sma_cross``: per SMA pair i, ``state_i`` (+1 fast above slow, -1 below, 0 not known
    yet; equal keeps the last state, as LAST_VALUE skips nulls) and ``previous_i`` (the state
    at the bar before)."""
    states = "".join(
        f",\n  COALESCE(LAST_VALUE(CASE WHEN sma_{c.fast} > sma_{c.slow} THEN 1 "
        f"WHEN sma_{c.fast} < sma_{c.slow} THEN -1 END) OVER w, 0) AS state_{i}"
        for i, c in enumerate(specs)
    )
    previous = "".join(
        f",\n  CASE WHEN COUNT(*) OVER w = 2 THEN FIRST_VALUE(state_{i}) OVER w ELSE 0 END"
        f" AS previous_{i}"
        for i in range(len(specs))
    )
    return [
        f"""CREATE TEMPORARY VIEW sma_cross_state AS
SELECT *{states}
FROM bars_sma
WINDOW w AS ({_SERIES} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)""",
        f"""CREATE TEMPORARY VIEW sma_cross AS
SELECT *{previous}
FROM sma_cross_state
WINDOW w AS ({_SERIES} ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)""",
    ]


def _map(entries: list[tuple[str, str]]) -> str:
    return "MAP[" + ", ".join(f"{sql_string(k)}, {v}" for k, v in entries) + "]"


def sma_insert(periods: tuple[int, ...]) -> str:
    values = _map([(f"sma_{n}", f"sma_{n}") for n in periods])
    return f"""INSERT INTO {SINK_TABLE}
SELECT symbol, CONCAT('sma_', timeframe), t_ns, {values}
FROM bars_sma
WHERE sma_{min(periods)} IS NOT NULL"""


def bollinger_insert(k: float) -> str:
    width = f"{_double(k)} * std"
    values = _map(
        [
            ("middle", "middle"),
            ("upper", f"middle + {width}"),
            ("lower", f"middle - {width}"),
            ("std", "std"),
        ]
    )
    return f"""INSERT INTO {SINK_TABLE}
SELECT symbol, CONCAT('bollinger_', timeframe), t_ns, {values}
FROM bars_bollinger
WHERE std IS NOT NULL"""


def crossover_insert(index: int, spec: CrossoverSpec) -> str:
    values = _map(
        [
            ("signal", f"CAST(state_{index} AS DOUBLE)"),
            ("cross", f"CAST(CASE WHEN previous_{index} = 0 THEN 0 ELSE 1 END AS DOUBLE)"),
            ("fast", f"sma_{spec.fast}"),
            ("slow", f"sma_{spec.slow}"),
        ]
    )
    name = crossover_name("sma", spec.fast, spec.slow)
    return f"""INSERT INTO {SINK_TABLE}
SELECT symbol, CONCAT('{name}_', timeframe), t_ns, {values}
FROM sma_cross
WHERE state_{index} <> previous_{index}"""


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
_STD = """CASE WHEN COUNT(*) < 2 THEN NULL WHEN MIN(price) = MAX(price) THEN 0 ELSE
      SQRT(GREATEST(SUM(d * d) - SUM(d) * SUM(d) / COUNT(*), 0) / (COUNT(*) - 1))
    END"""

# Every minute T (a hopping window's end), for every symbol with a bar in [T - 24 h, T): the
# sample deviation of those bars' closes. Window ends are whole minutes, so t_ns is exact.
VOLATILITY_INSERT = f"""INSERT INTO {SINK_TABLE}
SELECT symbol, '{METRIC_VOLATILITY}',
  CAST(TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', window_end) AS BIGINT)
    * {NS_PER_MINUTE},
  MAP[
    'std', {_STD},
    'mean', AVG(price),
    'count', CAST(COUNT(*) AS DOUBLE),
    'rel_std', {_STD} / AVG(price)
  ]
FROM TABLE(HOP(TABLE minute_bars, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '24' HOUR))
GROUP BY symbol, window_start, window_end"""


def statements(opts: Options) -> tuple[list[str], list[str]]:
    """(DDL to execute, INSERTs to run together with the recursive indicators as one job)."""
    sma_crossovers = opts.sma_crossovers()
    ddl = [
        *source_ddl(opts),
        sink_ddl(opts),
        bars_all_view(opts),
        VIEW_BARS,
        sma_view(opts.all_sma_periods()),
        bollinger_view(opts.bollinger_period),
        VIEW_MINUTE_BARS,
    ]
    inserts = [sma_insert(opts.sma_periods), bollinger_insert(opts.bollinger_k)]
    if sma_crossovers:
        ddl.extend(crossover_views(sma_crossovers))
        inserts.extend(crossover_insert(i, c) for i, c in enumerate(sma_crossovers))
    inserts.append(VOLATILITY_INSERT)
    return ddl, inserts
