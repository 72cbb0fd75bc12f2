"""SettledBars (jobs/java), the process table function that joins each symbol's bars with their
indicator records and lets a bar go, with the bars before it, once every family is settled for
it, applies the rule of the Python window (``jobs.narwhal.window.SymbolWindow``): the features
computed from what it emits (``jobs.narwhal.lookback``, as the job does) equal, bit for bit,
those of the window fed the same records in the same order.

The function runs on a local mini-cluster over one Kafka topic, through the narwhal job's own
view (``jobs.narwhal.sql.stream_input_view``). Real data: GOOG and S&P 500 daily bars and the
currents job's indicator records for them (tests/references), sent as currents writes them for
one symbol and in a random interleaving for the other, the two symbols mixed; with records
repeated after their bar has gone (other values: must not be used), records of times that have
no bar, and the last bars' MACD records never sent (they go at the end of input with what came).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from connectors.sinks.kafka import ensure_topics
from jobs.common.functions import SETTLED_BARS_DDL
from jobs.common.kafka import kafka_json_source_options, with_options
from jobs.narwhal.lookback import TIMES, VALUE_COLUMNS, VALUES, window_features
from jobs.narwhal.sql import stream_input_view
from jobs.narwhal.window import (
    BAR_KIND,
    BAR_VALUES,
    FAMILY_COLUMNS,
    LOOKBACK,
    STREAM_FEATURES,
    SymbolWindow,
)
from ml.features import HISTORY_COLUMNS
from streamlines.datasets import load_bars
from tests.references.features import with_indicators
from tests.support.flink_sql import collect_sql
from tests.support.kafka import produce
from tests.support.narwhal import IndicatorRecord, indicator_records, record_columns

# The joined table of the narwhal job (sql.VIEW_BAR_AND_INDICATOR_ROWS), as a Kafka table.
SOURCE_DDL = """CREATE TABLE bar_and_indicator_rows (
  symbol STRING, t_ns BIGINT, kind STRING, {values},
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS ts - INTERVAL '3' DAY
) WITH (
{options}
)"""


@dataclass(frozen=True)
class JoinRow:
    """A row of the joined table: a bar, or an indicator record flattened into its columns."""

    symbol: str
    t_ns: int
    kind: str
    values: dict[str, float] = field(default_factory=dict)

    def key(self) -> bytes:
        return self.symbol.encode()

    def to_wire(self) -> bytes:
        return json.dumps(
            {"symbol": self.symbol, "t_ns": self.t_ns, "kind": self.kind, **self.values}
        ).encode()


def bar_rows(symbol: str, bars: pd.DataFrame) -> list[JoinRow]:
    times = pd.to_datetime(bars["time"], utc=True).array.asi8
    return [
        JoinRow(symbol, int(t), BAR_KIND, dict(zip(BAR_VALUES, map(float, row), strict=True)))
        for t, row in zip(times, bars[list(BAR_VALUES)].itertuples(index=False), strict=True)
    ]


def record_row(symbol: str, record: IndicatorRecord) -> JoinRow:
    values = {c: v for c, v in record_columns(record).items() if v is not None}
    return JoinRow(symbol, record.t_ns, record.family, values)


def family_rows(symbol: str, bars: pd.DataFrame) -> dict[str, list[JoinRow]]:
    out: dict[str, list[JoinRow]] = {family: [] for family in FAMILY_COLUMNS}
    for record in indicator_records(bars):
        out[record.family].append(record_row(symbol, record))
    return out


def as_currents_writes(bars: list[JoinRow], families: dict[str, list[JoinRow]]) -> list[JoinRow]:
    """Bar t, then the records of bar t - 1, families shuffled each time."""
    by_time: dict[int, list[JoinRow]] = {}
    for rows in families.values():
        for row in rows:
            by_time.setdefault(row.t_ns, []).append(row)
    rng = random.Random(11)
    out: list[JoinRow] = []
    previous = -1
    for bar in bars:
        records = by_time.pop(previous, [])
        rng.shuffle(records)
        out += [bar, *records]
        previous = bar.t_ns
    return out + [row for rows in by_time.values() for row in rows]


def merged(sequences: list[list[JoinRow]], rng: random.Random) -> Iterator[JoinRow]:
    """A random interleaving that keeps the order within each sequence."""
    positions = [0] * len(sequences)
    while open_ := [i for i, seq in enumerate(sequences) if positions[i] < len(seq)]:
        i = rng.choice(open_)
        yield sequences[i][positions[i]]
        positions[i] += 1


def sent_rows() -> list[JoinRow]:
    rng = random.Random(20261205)
    goog = with_indicators(load_bars("GOOG").iloc[:400])
    spx = with_indicators(load_bars("SP500").iloc[:400])
    goog_stream = as_currents_writes(bar_rows("GOOG", goog), family_rows("GOOG", goog))
    spx_families = family_rows("SP500", spx)
    spx_families["macd"] = spx_families["macd"][:-5]  # the last five bars never settle
    spx_stream = list(merged([bar_rows("SP500", spx), *spx_families.values()], rng))
    # Records that must change nothing: repeats of early bars' records with other values (their
    # bars have gone by then), and a record of a time between two bars (no bar comes for it).
    late = [
        JoinRow(r.symbol, r.t_ns, r.kind, {c: v * 2 for c, v in r.values.items()})
        for r in goog_stream[300:600]
        if r.kind != BAR_KIND and r.values
    ]
    orphan_t = (goog_stream[0].t_ns + goog_stream[2].t_ns) // 2
    orphan = JoinRow("GOOG", orphan_t, "rsi", {"rsi_14": 50.0})
    return [orphan, *merged([goog_stream, spx_stream], rng), *late]


def python_window_features(rows: list[JoinRow]) -> dict[str, pd.DataFrame]:
    """The Python rule: each symbol's window fed every row in order, the settled bars scored
    after each, the rest at the end."""
    windows: dict[str, SymbolWindow] = {}
    out: dict[str, list[pd.DataFrame]] = {}
    for row in rows:
        window = windows.setdefault(row.symbol, SymbolWindow())
        if row.kind == BAR_KIND:
            window.add_bar(row.t_ns, [row.values[c] for c in BAR_VALUES])
        else:
            window.add_indicators(row.kind, row.t_ns, row.values)
        out.setdefault(row.symbol, []).append(window.ready())
    return {
        symbol: pd.concat([*out[symbol], window.ready(flush=True)], ignore_index=True)
        for symbol, window in windows.items()
    }


def function_features(emitted: list[list[Any]]) -> dict[str, pd.DataFrame]:
    """The features of what the function emitted, as the job's Python function computes them
    (each bar with its look-back)."""
    symbols, t_ns, times, values = zip(*emitted, strict=True)
    features = window_features(symbols, t_ns, times, values)
    return {
        symbol: frame.drop(columns="symbol").reset_index(drop=True)
        for symbol, frame in features.groupby("symbol")
    }


def test_the_function_settles_bars_as_the_python_window_does(settings):
    rows = sent_rows()
    topic = f"test-settled-bars-{uuid.uuid4().hex[:8]}"
    ensure_topics(settings.kafka_bootstrap, [topic], partitions=1)
    produce(settings.kafka_bootstrap, topic, rows)
    options = kafka_json_source_options(
        settings.kafka_bootstrap, topic, f"{topic}-read", startup_mode="earliest-offset",
        bounded=True,
    )  # fmt: skip
    source = SOURCE_DDL.format(
        values=", ".join(f"`{c}` DOUBLE" for c in VALUE_COLUMNS), options=with_options(options)
    )
    emitted = collect_sql(
        [source, SETTLED_BARS_DDL, stream_input_view()], "SELECT * FROM stream_input"
    )

    expected, got = python_window_features(rows), function_features(emitted)
    assert set(got) == {"GOOG", "SP500"}
    assert {symbol: len(frame) for symbol, frame in got.items()} == {"GOOG": 400, "SP500": 400}
    for symbol, frame in got.items():
        want = expected[symbol]
        assert frame["t_ns"].tolist() == want["t_ns"].tolist(), symbol
        for name in STREAM_FEATURES:
            a, b = frame[name].to_numpy(), want[name].to_numpy()
            assert np.array_equal(a, b, equal_nan=True), f"{symbol} {name}"
    seen: dict[str, int] = {}
    for symbol, t_ns, packed_times, packed_values in emitted:
        times = np.frombuffer(packed_times, TIMES)
        seen[symbol] = seen.get(symbol, 0) + 1
        assert times[-1] == t_ns
        assert len(times) == min(LOOKBACK + 1, seen[symbol]), symbol
        history = (len(times) - 1) * len(HISTORY_COLUMNS)
        assert len(packed_values) == (history + len(VALUE_COLUMNS)) * VALUES.itemsize
    newest = {
        row[1]: np.frombuffer(row[3], VALUES)[-len(VALUE_COLUMNS) :]
        for row in emitted
        if row[0] == "SP500"
    }
    last_times = sorted(newest)[-5:]
    macd, rsi = VALUE_COLUMNS.index("macd_histogram"), VALUE_COLUMNS.index("rsi_14")
    assert all(np.isnan(newest[t][macd]) for t in last_times), "flushed bars got a MACD"
    assert all(np.isfinite(newest[t][rsi]) for t in last_times)
