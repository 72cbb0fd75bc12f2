"""The keyed process function of the narwhal job: per symbol, a ``SymbolWindow`` in keyed
state; bar and indicator rows in, predictions out (``window.py`` says when a bar is ready,
``scorer.py`` scores).

Batches: ``feature_frame`` costs about the same (~2 ms) for one bar as for hundreds, so the
bars that are ready are scored together: at once when ``BATCH_BARS`` are ready (a backfill),
else by a processing-time timer ``FLUSH_DELAY_MS`` after the first of them (live bars: that
much latency). At the end of a bounded run Flink sends the watermark that ends event time; a
timer at the last millisecond before it (one per symbol) scores every bar still waiting then,
with the indicators that came. In a streaming run that watermark never comes: a bar waits for
its indicators.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from pyflink.common import Row, Types
from pyflink.common.typeinfo import TypeInformation
from pyflink.datastream import KeyedProcessFunction, RuntimeContext, TimeDomain
from pyflink.datastream.state import ValueState, ValueStateDescriptor

from jobs.narwhal.keyed import INPUT_FIELDS
from jobs.narwhal.scorer import OUTPUT_COLUMNS, Scorer, ScorerConfig
from jobs.narwhal.window import BAR_KIND, BAR_VALUES, FAMILY_COLUMNS, SymbolWindow

END_OF_INPUT_MS = 2**63 - 2  # fires only on the final watermark (Long.MAX_VALUE)
BATCH_BARS = 512
FLUSH_DELAY_MS = 100
# The input row after symbol, t_ns, kind (keyed.INPUT_FIELDS): the bar's values, then the
# indicator input columns; each family's columns by position in it.
BAR_WIDTH = len(BAR_VALUES)
_VALUES = INPUT_FIELDS[3:]
FAMILY_POSITIONS: dict[str, tuple[tuple[str, int], ...]] = {
    family: tuple((c, _VALUES.index(c)) for c in columns)
    for family, columns in FAMILY_COLUMNS.items()
}


def prediction_type() -> TypeInformation:
    """``contracts.events.Prediction``'s fields."""
    string, long = Types.STRING(), Types.LONG()
    return Types.ROW_NAMED(
        list(OUTPUT_COLUMNS),
        [string, long, string, string, long, Types.DOUBLE()],
    )


class StreamFeatures(KeyedProcessFunction):
    """Input rows: ``symbol, t_ns, kind`` (``bar`` or an indicator family), the bar's
    ``open .. volume`` and the indicator input columns (null where the row has none)."""

    def __init__(self, config: ScorerConfig) -> None:
        self.config = config
        self.state: ValueState | None = None
        self.scorer: Scorer | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.scorer = Scorer(self.config)
        self.state = runtime_context.get_state(
            ValueStateDescriptor("window", Types.PICKLED_BYTE_ARRAY())
        )

    def process_element(self, value: Row, ctx: KeyedProcessFunction.Context) -> Iterator[Row]:
        assert self.state is not None
        # Positional, not by name: a Row's fields by name cost a list search each.
        symbol, t_ns, kind, *values = value
        window = self.state.value()
        if window is None:
            window = SymbolWindow()
            ctx.timer_service().register_event_time_timer(END_OF_INPUT_MS)
        if kind == BAR_KIND:
            window.add_bar(t_ns, values[:BAR_WIDTH])
        elif kind in FAMILY_POSITIONS:
            window.add_indicators(kind, t_ns, {c: values[i] for c, i in FAMILY_POSITIONS[kind]})
        count = window.settled_count()
        rows = window.take(count) if count >= BATCH_BARS else None
        if rows is None and count and not window.flush_scheduled:
            timers = ctx.timer_service()
            timers.register_processing_time_timer(timers.current_processing_time() + FLUSH_DELAY_MS)
            window.flush_scheduled = True
        self.state.update(window)
        if rows is not None:
            yield from self._predictions(symbol, rows)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterator[Row]:
        assert self.state is not None
        window = self.state.value()
        if window is None:
            return
        end = ctx.time_domain() == TimeDomain.EVENT_TIME
        if not end:
            window.flush_scheduled = False
        rows = window.ready(flush=end)
        self.state.update(window)
        yield from self._predictions(ctx.get_current_key(), rows)

    def _predictions(self, symbol: str, features: pd.DataFrame) -> Iterator[Row]:
        assert self.scorer is not None
        if features.empty:
            return
        features.insert(0, "symbol", symbol)
        scored = self.scorer.score(features)
        for row in scored.itertuples(index=False, name=None):
            yield Row(row[0], int(row[1]), row[2], row[3], int(row[4]), float(row[5]))
