"""jobs.currents.per_bar: a bar's per-bar record and crossover records, from its price and the
values SQL computed for it (here pandas' SMAs and Bollinger middle and deviation), expanded as
the sink stores them, equal the pandas references on the real GOOG daily closes."""

from __future__ import annotations

import math

import pandas as pd

from jobs.currents.per_bar import BarConfig, SqlValues, bar_output
from jobs.currents.recursive import RecursiveConfig, SymbolIndicators
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.indicators import expand, indicators_metric
from streamlines.datasets import load_bars
from tests.references.currents import assert_close, bollinger, expected_indicators, sma

DEFAULTS = BarConfig(
    sma_periods=(20, 50, 200),
    bollinger_k=2.0,
    recursive=RecursiveConfig(ema_crossovers=((12, 26),), sma_crossovers=((50, 200),)),
)


def _value(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def run(close: pd.Series, config: BarConfig = DEFAULTS) -> tuple[int, dict[str, dict[int, dict]]]:
    """(the number of per-bar records, every record as stored by metric and t_ns)."""
    smas = sma(close, [20, 50, 200])
    bands = bollinger(close, 20, 2.0)
    indicators = SymbolIndicators.create(config.recursive)
    per_bar = 0
    stored: dict[str, dict[int, dict]] = {}
    for t in close.index:
        bar = SqlValues(
            price=float(close[t]),
            smas={p: _value(smas.loc[t, f"sma_{p}"]) for p in (20, 50, 200)},
            middle=_value(bands.loc[t, "middle"]),
            std=_value(bands.loc[t, "std"]),
        )
        values, events = bar_output(config, indicators, bar)
        records = [AnalyticsRecord(symbol="GOOG", t_ns=t, metric=indicators_metric("1Day"),
                                   values=values)]  # fmt: skip
        per_bar += 1
        records += [
            AnalyticsRecord(symbol="GOOG", t_ns=t, metric=f"{name}_1Day", values=event)
            for name, event in events
        ]
        for record in records:
            for one in expand(record):
                stored.setdefault(one.metric, {})[t] = one.values
    return per_bar, stored


def test_every_family_and_crossover_stored_equals_pandas():
    goog = load_bars("GOOG")
    close = pd.Series(goog.close.to_numpy(), index=goog.index.asi8)
    per_bar, stored = run(close)
    assert per_bar == len(close)  # one record at every bar, the first ones included
    expected = expected_indicators(close, "1Day")
    assert set(stored) == set(expected)
    for metric, frame in expected.items():
        assert list(stored[metric]) == list(frame.index), metric
        for t, row in frame.iterrows():
            assert_close(stored[metric][t], row.to_dict(), f"{metric} {t}")
    assert len(expected["cross_sma50_sma200_1Day"]) > 5  # real data crosses


def test_only_the_asked_smas_are_reported_and_the_first_bar_stores_nothing():
    config = BarConfig(sma_periods=(20,), bollinger_k=1.5, recursive=RecursiveConfig())
    indicators = SymbolIndicators.create(config.recursive)
    first = SqlValues(price=10.0, smas={5: None, 20: None}, middle=None, std=None)
    values, events = bar_output(config, indicators, first)
    assert values["sma.sma_20"] is None
    assert "sma.sma_5" not in values
    assert events == []
    record = AnalyticsRecord(symbol="X", t_ns=1, metric="indicators_1Min", values=values)
    assert expand(record) == []
    later = SqlValues(price=11.0, smas={5: 10.5, 20: 10.25}, middle=10.25, std=0.5)
    values, _ = bar_output(config, indicators, later)
    assert values["bollinger.upper"] == 10.25 + 1.5 * 0.5
    assert values["bollinger.lower"] == 10.25 - 1.5 * 0.5
    assert values["sma.sma_20"] == 10.25
