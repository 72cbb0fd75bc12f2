"""The per-bar output as a keyed process function in PyFlink's DataStream API: one
``SymbolIndicators`` per (symbol, timeframe) in keyed state, updated at each bar, and the bar's
records (``per_bar.py``)."""

from __future__ import annotations

from collections.abc import Iterator

from pyflink.common import Row, Types
from pyflink.datastream import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueState, ValueStateDescriptor

from jobs.currents.per_bar import BarConfig, SqlValues, bar_output
from jobs.currents.recursive import SymbolIndicators
from streamlines.contracts.indicators import indicators_metric
from streamlines.contracts.metrics import indicator_metric

KEY_TYPE = Types.TUPLE([Types.STRING(), Types.STRING()])


def series_key(row: Row) -> tuple[str, str]:
    return row.symbol, row.timeframe


class BarIndicators(KeyedProcessFunction):
    """Input rows (symbol, timeframe, t_ns, price, sma_<p> for each of ``sma_columns``, middle,
    std) arrive in event-time order per series (they come out of the SQL OVER windows that sort
    them); each yields that bar's per-bar record (metric ``indicators_<timeframe>``) and its
    crossover records (``<name>_<timeframe>``), all at the bar's own t_ns."""

    def __init__(self, config: BarConfig, sma_columns: list[int]) -> None:
        self.config = config
        self.sma_columns = sma_columns
        self.state: ValueState | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.state = runtime_context.get_state(
            ValueStateDescriptor("indicators", Types.PICKLED_BYTE_ARRAY())
        )

    def process_element(self, value: Row, ctx: KeyedProcessFunction.Context) -> Iterator[Row]:
        assert self.state is not None
        indicators = self.state.value() or SymbolIndicators.create(self.config.recursive)
        smas = {p: value[f"sma_{p}"] for p in self.sma_columns}
        bar = SqlValues(value.price, smas, value.middle, value.std)
        values, events = bar_output(self.config, indicators, bar)
        self.state.update(indicators)
        yield Row(value.symbol, indicators_metric(value.timeframe), value.t_ns, values)
        for name, event in events:
            yield Row(value.symbol, indicator_metric(name, value.timeframe), value.t_ns, event)
