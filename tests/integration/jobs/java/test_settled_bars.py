"""SettledBars (jobs/java), the process table function that joins each symbol's bars with their
indicator records and lets a bar go, with the bars before it, once every family is settled for
it (the narwhal job's one family: the per-bar record), applies the rule of the Python window
(``jobs.narwhal.window.SymbolWindow``): the features computed from what it emits
(``jobs.narwhal.lookback``, as the job does) equal, bit for bit, those of the window fed the
same records in the same order.

The function runs on a local mini-cluster over one Kafka topic, through the narwhal job's own
view (``jobs.narwhal.sql.stream_input_view``). Real data: GOOG and S&P 500 daily bars and the
currents job's per-bar indicator records for them (tests/references), sent as currents writes
them for one symbol (bar t, then the record of bar t - 1) and in a random interleaving for the
other, the two symbols mixed; with records repeated after their bar has gone (other values: must
not be used), a record of a time that has no bar, records of a few bars never sent (a later
bar's record settles them, with no indicators) and the last bars' records never sent (they go
at the end of input with what came: none).
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
import pytest

from connectors.sinks.kafka import ensure_topics
from jobs.common.functions import SETTLED_BARS_DDL
from jobs.common.kafka import kafka_json_source_options, with_options
from jobs.narwhal.lookback import TIMES, VALUE_COLUMNS, VALUES, window_features
from jobs.narwhal.sql import stream_input_view
from jobs.narwhal.window import (
    BAR_KIND,
    BAR_VALUES,
    FAMILIES,
    LOOKBACK,
    STREAM_FEATURES,
    SymbolWindow,
)
from ml.features import HISTORY_COLUMNS
from streamlines.contracts.indicators import INDICATORS
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
    """The job's indicator row of a per-bar record (sql.VIEW_INDICATOR_ROWS)."""
    values = {c: v for c, v in record_columns(record).items() if v is not None}
    return JoinRow(symbol, record.t_ns, INDICATORS, values)


def record_rows(symbol: str, bars: pd.DataFrame) -> list[JoinRow]:
    return [record_row(symbol, record) for record in indicator_records(bars)]


def as_currents_writes(bars: list[JoinRow], records: list[JoinRow]) -> list[JoinRow]:
    """Bar t, then the record of bar t - 1."""
    by_time = {row.t_ns: row for row in records}
    out: list[JoinRow] = []
    previous = -1
    for bar in bars:
        out.append(bar)
        if previous in by_time:
            out.append(by_time.pop(previous))
        previous = bar.t_ns
    return out + list(by_time.values())


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
    assert FAMILIES == (INDICATORS,)
    goog_stream = as_currents_writes(bar_rows("GOOG", goog), record_rows("GOOG", goog))
    spx_records = record_rows("SP500", spx)
    # Bars 200-204 settle with bar 205's record, the last five only at the end of input.
    spx_records = spx_records[:200] + spx_records[205:-5]
    spx_stream = list(merged([bar_rows("SP500", spx), spx_records], rng))
    # Records that must change nothing: repeats of early bars' records with other values (their
    # bars have gone by then), and a record of a time between two bars (no bar comes for it).
    late = [
        JoinRow(r.symbol, r.t_ns, r.kind, {c: v * 2 for c, v in r.values.items()})
        for r in goog_stream[300:600]
        if r.kind != BAR_KIND and r.values
    ]
    orphan_t = (goog_stream[0].t_ns + goog_stream[2].t_ns) // 2
    orphan = JoinRow("GOOG", orphan_t, INDICATORS, {"rsi_14": 50.0})
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


@pytest.mark.usefixtures("stack")  # its topics are on the stack's Kafka
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
    spx_times = sorted(newest)
    indicators = [VALUE_COLUMNS.index(c) for c in ("macd_histogram", "rsi_14", "sma_20")]
    for t in spx_times[200:205] + spx_times[-5:]:  # their records never came
        assert np.isnan(newest[t][indicators]).all(), "a bar without a record got indicators"
    for t in spx_times[195:200] + spx_times[205:-5]:
        assert np.isfinite(newest[t][indicators]).all()
