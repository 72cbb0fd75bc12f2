"""jobs.currents.recursive: EMA, Wilder's RSI, MACD and EMA crossovers, bar by bar, equal
the pandas references on the real GOOG and S&P 500 daily closes (to 1e-9 relative)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from jobs.currents.recursive import (
    Crossover,
    Ema,
    RecursiveConfig,
    SymbolIndicators,
    WilderRsi,
)
from streamlines.datasets import load_bars
from tests.references.currents import assert_close, crossovers, ema, macd, rsi

CONFIG = RecursiveConfig()


def run(close: pd.Series, config: RecursiveConfig = CONFIG) -> dict[str, dict[int, dict]]:
    state = SymbolIndicators.create(config)
    out: dict[str, dict[int, dict]] = {}
    for t, price in close.items():
        for name, values in state.update(float(price)):
            out.setdefault(name, {})[t] = values
    return out


def check(got: dict[int, dict], want: pd.DataFrame, what: str) -> None:
    want = want.dropna(how="all")
    assert list(got) == list(want.index), what
    for t, row in want.iterrows():
        assert_close(got[t], row.to_dict(), f"{what} {t}")


@pytest.mark.parametrize("dataset", ["GOOG", "SP500"])
def test_every_recursive_indicator_equals_pandas_on_real_daily_closes(dataset):
    close = load_bars(dataset).close.reset_index(drop=True)
    out = run(close)
    check(out["ema"], ema(close, [20, 50, 200]), "ema")
    check(out["rsi"], rsi(close, 14), "rsi")
    check(out["macd"], macd(close, 12, 26, 9), "macd")
    fast, slow = ema(close, [12, 26]).ema_12, ema(close, [12, 26]).ema_26
    expected = crossovers(fast, slow)
    assert len(expected) > 10  # real data crosses often
    check(out["cross_ema12_ema26"], expected, "cross")


def test_other_periods_are_honoured():
    close = load_bars("GOOG").close.iloc[:400].reset_index(drop=True)
    config = RecursiveConfig(ema_periods=(5, 30), rsi_period=7, macd=(5, 35, 5),
                             ema_crossovers=((5, 30), (10, 100)))  # fmt: skip
    out = run(close, config)
    check(out["ema"], ema(close, [5, 30]), "ema")
    check(out["rsi"], rsi(close, 7), "rsi")
    check(out["macd"], macd(close, 5, 35, 5), "macd")
    for fast, slow in ((5, 30), (10, 100)):
        e = ema(close, [fast, slow])
        check(out[f"cross_ema{fast}_ema{slow}"], crossovers(e.iloc[:, 0], e.iloc[:, 1]), "cross")


def test_ema_is_seeded_with_the_first_value_and_reported_from_its_period():
    ema3 = Ema(3)
    assert [ema3.update(x) for x in (10.0, 12.0, 8.0)] == [10.0, 11.0, 9.5]
    assert ema3.reported == 9.5
    early = Ema(3)
    early.update(1.0)
    assert early.reported is None


def test_rsi_is_seeded_with_the_mean_of_the_first_changes():
    r = WilderRsi(period=2)
    assert r.update(10.0) is None
    assert r.update(11.0) is None  # one change: not yet
    value = r.update(10.5)  # gains 1, 0; losses 0, 0.5
    assert value is not None
    assert math.isclose(value, 100 - 100 / (1 + 0.5 / 0.25))
    value = r.update(10.5)
    assert value is not None
    assert math.isclose(value, 100 - 100 / (1 + (0.5 / 2) / (0.25 / 2)))


def test_rsi_without_losses_is_100_and_without_movement_50():
    rising, flat = WilderRsi(period=2), WilderRsi(period=2)
    for x in (1.0, 2.0, 3.0):
        up = rising.update(x)
        still = flat.update(5.0)
    assert (up, still) == (100.0, 50.0)


def test_crossover_reports_first_state_then_only_flips():
    c = Crossover()
    assert c.update(None, 1.0) is None
    assert c.update(1.0, 1.0) is None  # equal: no state yet
    assert c.update(2.0, 1.0) == (1, 0)
    assert c.update(3.0, 1.0) is None
    assert c.update(1.0, 1.0) is None  # equal keeps bullish
    assert c.update(0.5, 1.0) == (-1, 1)


def test_state_survives_pickling_midway():
    """Flink keeps the state pickled between bars; a restored state goes on identically."""
    import pickle

    close = load_bars("GOOG").close.iloc[:120].reset_index(drop=True)
    whole = run(close)
    state = SymbolIndicators.create(CONFIG)
    out: dict[str, dict[int, dict]] = {}
    for t, price in close.items():
        state = pickle.loads(pickle.dumps(state))
        for name, values in state.update(float(price)):
            out.setdefault(name, {})[t] = values
    assert out == whole
