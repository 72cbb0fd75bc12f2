"""The Python parts of the beacons job (PyFlink DataStream API): checking each fundamental as
it arrives, and the per-symbol book in keyed state.

Records that are refused go to a side output as dead-letter records (the contract's JSON, with
the reason and the record as received): ``CheckFundamentals`` refuses what does not fit the
schema or is valid from the future; ``Beacons`` refuses what conflicts with a fundamental it
already knows (the same symbol, fact and time with another value and no higher revision).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row, Types
from pyflink.common.typeinfo import TypeInformation
from pyflink.datastream import KeyedProcessFunction, OutputTag, ProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueState, ValueStateDescriptor

from jobs.beacons.book import SymbolBook
from streamlines.contracts.deadletter import dead_letter_record
from streamlines.contracts.events import Fundamental, SchemaError, fundamental_problem

DEAD_LETTERS = OutputTag("dead-letters", Types.STRING())
# An event-time timer here fires only when the watermark reaches the end of time, i.e. when
# every (bounded) input has been read: the last flush of a --bounded run.
END_OF_INPUT_MS = 2**63 - 2


def fact_row_type() -> TypeInformation:
    """A checked fundamental: its symbol and time (to key and to read), the record as text."""
    return Types.ROW_NAMED(
        ["symbol", "t_ns", "payload"], [Types.STRING(), Types.LONG(), Types.STRING()]
    )


def dead_letter(reason: str, raw: Any, source: str) -> str:
    return dead_letter_record(reason, raw, source).decode()


class CheckFundamentals(ProcessFunction):
    """Raw records of the fundamentals topic: the valid ones on, the others to
    ``DEAD_LETTERS`` with the reason (``fundamental_problem``: a missing or unknown field, a
    negative share count, a time in the future, ...)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def process_element(self, value: Row, ctx: ProcessFunction.Context) -> Iterator[Any]:
        payload = value.payload
        if payload is None:
            yield DEAD_LETTERS, dead_letter("empty record (no value)", None, self.source)
            return
        problem = fundamental_problem(payload, time.time_ns())
        if problem is not None:
            yield DEAD_LETTERS, dead_letter(problem, payload, self.source)
            return
        fundamental = Fundamental.from_wire(payload)
        yield Row(fundamental.symbol, fundamental.t_ns, payload)


class Beacons(KeyedProcessFunction):
    """Per symbol: the book (``book.py``) in keyed state. Each input changes it; its changed
    records are written on a timer — every ``flush_interval_ms`` of processing time while
    inputs arrive (so a backfill writes each record about once), and once more when every
    input has been read (bounded runs)."""

    def __init__(self, flush_interval_ms: int, source: str) -> None:
        self.flush_interval_ms = flush_interval_ms
        self.source = source
        self.state: ValueState | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.state = runtime_context.get_state(
            ValueStateDescriptor("book", Types.PICKLED_BYTE_ARRAY())
        )

    def process_element(self, value: Row, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        assert self.state is not None
        book: SymbolBook | None = self.state.value()
        timers = ctx.timer_service()
        if book is None:
            book = SymbolBook(value.symbol)
            timers.register_event_time_timer(END_OF_INPUT_MS)
        if value.kind == "bar":
            book.add_bar(value.t_ns, value.close, value.adj_close)
        elif value.kind == "index":
            book.add_index_close(value.t_ns, value.adj_close)
        else:
            problem = self.add_fundamental(book, value.payload)
            if problem is not None:
                yield DEAD_LETTERS, dead_letter(problem, value.payload, self.source)
        self.state.update(book)
        # One timer per interval and key: the timer service keeps one per timestamp.
        now = timers.current_processing_time()
        timers.register_processing_time_timer(
            now - now % self.flush_interval_ms + self.flush_interval_ms
        )

    @staticmethod
    def add_fundamental(book: SymbolBook, payload: str) -> str | None:
        try:
            return book.add_fundamental(Fundamental.from_wire(payload))
        except SchemaError as exc:  # checked upstream; should one slip through, dead-letter it
            return exc.reason

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterator[Row]:
        assert self.state is not None
        book: SymbolBook | None = self.state.value()
        if book is None:
            return
        records = book.flush()
        if records:
            self.state.update(book)
        for metric, t_ns, values in records:
            yield Row(book.symbol, metric, t_ns, values)
