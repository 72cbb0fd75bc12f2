"""The recursive indicators as a keyed process function in PyFlink's DataStream API: one
``SymbolIndicators`` per (symbol, timeframe) in keyed state, updated at each bar."""

from __future__ import annotations

from collections.abc import Iterator

from pyflink.common import Row, Types
from pyflink.datastream import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueState, ValueStateDescriptor

from jobs.currents.recursive import RecursiveConfig, SymbolIndicators
from streamlines.contracts.metrics import indicator_metric

KEY_TYPE = Types.TUPLE([Types.STRING(), Types.STRING()])


def series_key(row: Row) -> tuple[str, str]:
    return row.symbol, row.timeframe


class RecursiveIndicators(KeyedProcessFunction):
    """Input rows (symbol, timeframe, t_ns, price) arrive in event-time order per series (they
    come out of the SQL OVER windows that sort them); each yields that bar's records, with
    metric ``<name>_<timeframe>`` and the bar's own t_ns."""

    def __init__(self, config: RecursiveConfig) -> None:
        self.config = config
        self.state: ValueState | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.state = runtime_context.get_state(
            ValueStateDescriptor("indicators", Types.PICKLED_BYTE_ARRAY())
        )

    def process_element(self, value: Row, ctx: KeyedProcessFunction.Context) -> Iterator[Row]:
        assert self.state is not None
        indicators = self.state.value() or SymbolIndicators.create(self.config)
        records = indicators.update(value.price)
        self.state.update(indicators)
        for name, values in records:
            yield Row(value.symbol, indicator_metric(name, value.timeframe), value.t_ns, values)
