"""What the currents job writes at one bar of a series, from the bar's price and the values
Flink SQL computed for it (its SMAs, the Bollinger middle and deviation): the per-bar record of
every indicator family (``streamlines.contracts.indicators``) and the crossover records of the
pairs that flip at it. No Flink here (``process.py`` runs it in a keyed process function), so it
is unit-tested directly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from jobs.currents.recursive import RecursiveConfig, SymbolIndicators, Values
from streamlines.contracts.indicators import FAMILIES, compact_values


@dataclass(frozen=True)
class BarConfig:
    sma_periods: tuple[int, ...] = (20, 50, 200)  # the SMAs reported (SQL may compute more)
    bollinger_k: float = 2.0
    recursive: RecursiveConfig = field(default_factory=RecursiveConfig)


@dataclass(frozen=True)
class SqlValues:
    """One bar as it leaves the SQL: its price, every SMA computed (period -> value, None while
    warming up) and the Bollinger middle and population deviation (None while warming up)."""

    price: float
    smas: Mapping[int, float | None]
    middle: float | None
    std: float | None


def bar_output(
    config: BarConfig, indicators: SymbolIndicators, bar: SqlValues
) -> tuple[dict[str, float | int | None], list[tuple[str, Values]]]:
    """(the per-bar record's values, the crossover records) of ``bar``; ``indicators`` (the
    series' state) takes the bar."""
    families: list[tuple[str, Values]] = [
        ("sma", {f"sma_{p}": bar.smas.get(p) for p in config.sma_periods}),
        ("bollinger", _bollinger(bar.middle, bar.std, config.bollinger_k)),
    ]
    events: list[tuple[str, Values]] = []
    for name, values in indicators.update(bar.price, bar.smas):
        (families if name in FAMILIES else events).append((name, values))
    return compact_values(families), events


def _bollinger(middle: float | None, std: float | None, k: float) -> Values:
    if middle is None or std is None:
        return {"middle": None, "upper": None, "lower": None, "std": None}
    return {"middle": middle, "upper": middle + k * std, "lower": middle - k * std, "std": std}
