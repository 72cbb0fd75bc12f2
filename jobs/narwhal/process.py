"""The keyed process function of the narwhal job: per symbol, a ``SymbolWindow`` in keyed
state; bar and indicator rows in, feature rows out (``window.py`` says when a bar is ready).

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

from jobs.narwhal.window import BAR_KIND, BAR_VALUES, FAMILY_COLUMNS, STREAM_FEATURES, SymbolWindow

END_OF_INPUT_MS = 2**63 - 2  # fires only on the final watermark (Long.MAX_VALUE)
BATCH_BARS = 512
FLUSH_DELAY_MS = 100


def features_type() -> TypeInformation:
    """The rows the scorer reads: symbol, t_ns (the bar's start), the stream's features."""
    return Types.ROW_NAMED(
        ["symbol", "t_ns", *STREAM_FEATURES],
        [Types.STRING(), Types.LONG(), *(Types.DOUBLE() for _ in STREAM_FEATURES)],
    )


def symbol_key(row: Row) -> str:
    return str(row.symbol)


class StreamFeatures(KeyedProcessFunction):
    """Input rows: ``symbol, t_ns, kind`` (``bar`` or an indicator family), the bar's
    ``open .. volume`` and the indicator input columns (null where the row has none)."""

    def __init__(self) -> None:
        self.state: ValueState | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.state = runtime_context.get_state(
            ValueStateDescriptor("window", Types.PICKLED_BYTE_ARRAY())
        )

    def process_element(self, value: Row, ctx: KeyedProcessFunction.Context) -> Iterator[Row]:
        assert self.state is not None
        window = self.state.value()
        if window is None:
            window = SymbolWindow()
            ctx.timer_service().register_event_time_timer(END_OF_INPUT_MS)
        fields = value.as_dict()
        if value.kind == BAR_KIND:
            window.add_bar(value.t_ns, [fields[c] for c in BAR_VALUES])
        elif value.kind in FAMILY_COLUMNS:
            columns = FAMILY_COLUMNS[value.kind]
            window.add_indicators(value.kind, value.t_ns, {c: fields[c] for c in columns})
        count = window.settled_count()
        rows = window.take(count) if count >= BATCH_BARS else None
        if rows is None and count and not window.flush_scheduled:
            timers = ctx.timer_service()
            timers.register_processing_time_timer(timers.current_processing_time() + FLUSH_DELAY_MS)
            window.flush_scheduled = True
        self.state.update(window)
        if rows is not None:
            yield from _rows(value.symbol, rows)

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
        yield from _rows(ctx.get_current_key(), rows)


def _rows(symbol: str, features: pd.DataFrame) -> Iterator[Row]:
    for t_ns, *values in features.itertuples(index=False, name=None):
        yield Row(symbol, int(t_ns), *(float(v) for v in values))
