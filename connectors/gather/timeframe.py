"""The bar timeframes gather fetches (no heavy imports: the CLI's signature uses it)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any


class Timeframe(StrEnum):
    day = "1Day"
    hour = "1Hour"
    minute = "1Min"

    @property
    def length(self) -> timedelta:
        return _LENGTH[self.value]

    @property
    def window(self) -> timedelta:
        """How much time one fetch covers: a few pages at most (10,000 bars a page), so a
        symbol's first bars are written while later ones are still being fetched."""
        return _WINDOW[self.value]

    def alpaca(self) -> Any:
        """alpaca-py's ``TimeFrame`` for this timeframe."""
        from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

        units = {"1Day": TimeFrameUnit.Day, "1Hour": TimeFrameUnit.Hour}
        return TimeFrame(1, units.get(self.value, TimeFrameUnit.Minute))


_LENGTH = {"1Day": timedelta(days=1), "1Hour": timedelta(hours=1), "1Min": timedelta(minutes=1)}
_WINDOW = {"1Day": timedelta(days=3660), "1Hour": timedelta(days=366), "1Min": timedelta(days=10)}
