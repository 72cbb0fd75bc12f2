"""Trades generated from a bar: inside it, summing to it, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from connectors.replay.aggregate import bars_from_trades
from connectors.replay.synth import BarSpec, bar_rng, generate_quotes, generate_trades
from connectors.replay.timeframe import AlpacaTimeframe

BAR = BarSpec(
    100.0, 104.06, 95.96, 100.34, 22_351_900.0, 1_000 * 10**9, 1_000 * 10**9 + 23_400 * 10**9
)


def _trades(seed: int = 7, n: int = 780):
    return generate_trades(
        BAR, n, bar_rng(seed, "GOOG", 0), tick=0.01, integral_volume=True, first_id=1
    )


def test_trades_rebuild_the_bar_exactly():
    trades = _trades()
    bar = bars_from_trades(trades, AlpacaTimeframe(1, "Day"))
    assert len(bar) == 1
    assert (bar.open[0], bar.high[0], bar.low[0], bar.close[0]) == (100.0, 104.06, 95.96, 100.34)
    assert bar.volume[0] == BAR.volume
    assert bar.trade_count[0] == 780


def test_trades_are_ordered_inside_the_window_on_the_tick():
    trades = _trades()
    assert np.all(np.diff(trades.t) > 0)
    assert trades.t[0] >= BAR.start_ns
    assert trades.t[-1] < BAR.end_ns
    assert np.all(trades.size >= 1)
    assert np.allclose(np.round(trades.price * 100), trades.price * 100)


def test_same_seed_same_trades_other_seed_other_trades():
    a, b, c = _trades(7), _trades(7), _trades(8)
    assert np.array_equal(a.t, b.t)
    assert np.array_equal(a.price, b.price)
    assert not np.array_equal(a.t, c.t)


def test_fractional_volume_sums_to_the_bar():
    bar = BarSpec(4.58, 7.38, 3.8, 5.55, 2012.25343589, 0, 86_400 * 10**9)
    trades = generate_trades(
        bar, 300, bar_rng(7, "BTC/USD", 0), tick=0.01, integral_volume=False, first_id=1
    )
    assert trades.size.sum() == pytest.approx(2012.25343589, abs=1e-7)
    assert trades.price.max() == 7.38
    assert trades.price.min() == 3.8


def test_quotes_precede_their_trades_and_bracket_them():
    trades = _trades()
    quotes = generate_quotes(trades, BAR, bar_rng(8, "GOOG", 0), tick=0.01, integral_volume=True)
    assert len(quotes) == len(trades)
    assert np.all(np.diff(quotes.t) > 0)
    assert np.all(quotes.t <= trades.t)
    assert np.all(quotes.bid_price <= trades.price)
    assert np.all(quotes.ask_price >= trades.price)
    assert np.all(quotes.bid_price >= BAR.low)
    assert np.all(quotes.ask_price <= BAR.high)
