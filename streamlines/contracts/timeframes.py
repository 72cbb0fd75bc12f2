"""The timeframes of stored bars: gathered history (``market.bars.history``, measurement
``bars``) and the indicators computed on them (metric ``<name>_<timeframe>``)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from streamlines.contracts.time import NS_PER_SECOND


class BarTimeframe(StrEnum):
    DAY_1 = "1Day"
    HOUR_1 = "1Hour"
    MINUTE_1 = "1Min"

    @property
    def length(self) -> timedelta:
        return _LENGTH[self]

    @property
    def length_ns(self) -> int:
        return int(self.length.total_seconds()) * NS_PER_SECOND


_LENGTH = {
    BarTimeframe.DAY_1: timedelta(days=1),
    BarTimeframe.HOUR_1: timedelta(hours=1),
    BarTimeframe.MINUTE_1: timedelta(minutes=1),
}
