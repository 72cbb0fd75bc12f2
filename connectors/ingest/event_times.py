"""Event times ingest refuses: far ahead of the wall clock (no trade happens in the future),
or far behind the newest event of the same kind and symbol on the stream (a live feed does not
send last year's trade). Times in between are kept, late or not: the jobs' watermarks decide
what is too late for a window."""

from __future__ import annotations

import time
from collections.abc import Callable

from streamlines.contracts.events import Event
from streamlines.contracts.time import NS_PER_SECOND, rfc3339_ns


def _when(t_ns: int) -> str:
    try:
        return rfc3339_ns(t_ns)
    except (ValueError, OverflowError, OSError):  # beyond what datetime can show
        return f"{t_ns} ns since the epoch"


class EventTimes:
    def __init__(
        self,
        max_ahead_ns: int,
        max_behind_ns: int,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.max_ahead_ns = max_ahead_ns
        self.max_behind_ns = max_behind_ns
        self.clock_ns = clock_ns
        self._newest: dict[tuple[str, str], int] = {}

    def problem(self, event: Event) -> str | None:
        """Why ``event``'s time is refused, or None (then it counts as the newest if it is)."""
        now = self.clock_ns()
        if event.t_ns > now + self.max_ahead_ns:
            return (
                f"t: {_when(event.t_ns)} is more than {self.max_ahead_ns // NS_PER_SECOND} s "
                f"ahead of the wall clock ({_when(now)})"
            )
        key = (event.kind, event.symbol)
        newest = self._newest.get(key)
        if newest is not None and event.t_ns < newest - self.max_behind_ns:
            return (
                f"t: {_when(event.t_ns)} is more than {self.max_behind_ns // NS_PER_SECOND} "
                f"s behind the newest {event.kind} of {event.symbol} ({_when(newest)})"
            )
        if newest is None or event.t_ns > newest:
            self._newest[key] = event.t_ns
        return None
