"""One rich progress bar per symbol (the time range covered so far), plus one for all symbols.

With many symbols, a finished symbol's bar is hidden so the display stays readable; the total
bar and the final summary still count it.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column

SHOW_DONE_UP_TO = 20


class GatherProgress:
    def __init__(
        self, windows: dict[str, int], console: Console | None = None, unit: str = "bars"
    ) -> None:
        """``unit`` names what ``advance`` counts (``records`` for fundamentals)."""
        self._progress = Progress(
            TextColumn("{task.description}", table_column=Column(min_width=12, no_wrap=True)),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[bars]:>10,} " + unit + "  {task.fields[note]}"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
        )
        self._keep_done = len(windows) <= SHOW_DONE_UP_TO
        self._total: TaskID | None = None
        if len(windows) > 1:
            self._total = self._progress.add_task(
                "all symbols", total=len(windows), bars=0, note=""
            )
        self._tasks = {
            symbol: self._progress.add_task(symbol, total=count, bars=0, note="")
            for symbol, count in windows.items()
        }
        self._windows = dict(windows)
        self._bars = dict.fromkeys(windows, 0)
        self._all_bars = 0
        self._handlers: list[tuple[logging.StreamHandler, Any]] = []

    def __enter__(self) -> GatherProgress:
        self._progress.start()
        # Log lines written while the bars are drawn go through rich (sys.stderr is its proxy
        # now); a handler that kept the original stream would tear through the display.
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stderr__:
                self._handlers.append((handler, handler.stream))
                handler.setStream(sys.stderr)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for handler, stream in self._handlers:
            handler.setStream(stream)
        self._progress.stop()

    def advance(self, symbol: str, bars: int) -> None:
        """One more window of ``symbol`` fetched, with ``bars`` bars."""
        self._bars[symbol] += bars
        self._all_bars += bars
        self._progress.update(self._tasks[symbol], advance=1, bars=self._bars[symbol])
        if self._total is not None:
            self._progress.update(self._total, bars=self._all_bars)

    def finish(self, symbol: str, note: str, failed: bool = False) -> None:
        self._progress.update(
            self._tasks[symbol],
            completed=self._windows[symbol],
            note=note,
            visible=self._keep_done or failed,
        )
        if self._total is not None:
            self._progress.update(self._total, advance=1)
