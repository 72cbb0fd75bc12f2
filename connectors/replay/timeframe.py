"""Alpaca's REST bar timeframes (any ``5Min``, ``1Hour``, ``1Day``, ``1Week``, ``3Month``) and
bucketing: a protocol type of the replay server, not the timeframe of stored bars
(``streamlines.contracts.timeframes.BarTimeframe``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_UNITS = {
    "Min": "Min",
    "T": "Min",
    "Hour": "Hour",
    "H": "Hour",
    "Day": "Day",
    "D": "Day",
    "Week": "Week",
    "W": "Week",
    "Month": "Month",
    "M": "Month",
}
_PATTERN = re.compile(r"^(\d+)(Min|T|Hour|H|Day|D|Week|W|Month|M)$")
_NS = {"Min": 60_000_000_000, "Hour": 3_600_000_000_000, "Day": 86_400_000_000_000}
_ORDER = {"Min": 0, "Hour": 1, "Day": 2, "Week": 3, "Month": 4}
# 1970-01-05 was a Monday: weekly buckets start on Mondays, like Alpaca's.
_MONDAY_OFFSET_NS = 4 * _NS["Day"]


class AlpacaTimeframeError(ValueError):
    pass


@dataclass(frozen=True)
class AlpacaTimeframe:
    amount: int
    unit: str  # Min, Hour, Day, Week, Month

    @classmethod
    def parse(cls, text: str) -> AlpacaTimeframe:
        match = _PATTERN.match(text.strip())
        if not match:
            raise AlpacaTimeframeError(
                f"invalid timeframe {text!r}: use e.g. 1Min, 15Min, 1Hour, 1Day"
            )
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        limits = {"Min": range(1, 60), "Hour": range(1, 24), "Day": [1], "Week": [1]}
        allowed = limits.get(unit, [1, 2, 3, 6, 12])
        if amount not in allowed:
            raise AlpacaTimeframeError(
                f"invalid timeframe {text!r}: {unit} amount must be in {allowed}"
            )
        return cls(amount, unit)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def rank(self) -> tuple[int, int]:
        """Coarseness, comparable across units (minutes < hours < days < weeks < months)."""
        return (_ORDER[self.unit], self.amount)

    def fixed_ns(self) -> int | None:
        """Length in nanoseconds for fixed-length timeframes (minutes, hours, one day)."""
        if self.unit in _NS:
            return self.amount * _NS[self.unit]
        if self.unit == "Week":
            return 7 * _NS["Day"]
        return None

    def bucket_starts(self, t_ns: np.ndarray) -> np.ndarray:
        """The start (UTC, ns) of the bucket each timestamp falls in."""
        if self.unit == "Week":
            week = 7 * _NS["Day"]
            return (t_ns - _MONDAY_OFFSET_NS) // week * week + _MONDAY_OFFSET_NS
        if self.unit == "Month":
            # Months since 1970-01; every allowed amount divides 12, so buckets align to years.
            months = t_ns.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
            starts = (months // self.amount * self.amount).astype("datetime64[M]")
            return starts.astype("datetime64[ns]").astype(np.int64)
        size = self.fixed_ns()
        assert size is not None
        return t_ns // size * size
