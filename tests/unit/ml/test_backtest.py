"""ml.backtest: every metric against the loop-by-loop reference (tests/references/backtest.py) on
real GOOG and S&P 500 daily closes, tiny cases worked out by hand, no look-ahead, buy-and-hold,
and the errors a user gets."""

from __future__ import annotations

import json
import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from ml.backtest import (
    BacktestSpec,
    Performance,
    PredictionKind,
    Strategy,
    periods_per_year,
    result_from_json,
    run_backtest,
)
from streamlines.contracts.time import rfc3339_ns
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.datasets import load_daily_bars
from streamlines.errors import UserError
from tests.references.backtest import assert_matches_reference
from tests.references.compare import assert_close

DAILY = periods_per_year(BarTimeframe.DAY_1)


# ----------------------------------------------------------------------------- real data inputs


def momentum(close: pd.Series) -> np.ndarray:
    """The 5-bar momentum close_t / close_(t-5) - 1 (0 for the first 5 bars): uses data up to t."""
    return (close / close.shift(5) - 1.0).fillna(0.0).to_numpy()


def predictions(bars: pd.DataFrame, rule: str, seed: int) -> np.ndarray:
    """``momentum_prob``: the sign of the 5-bar momentum as a probability (a logistic of it, so
    the bigger the move the surer; 0.5 when flat); ``random``: seeded uniform probabilities;
    ``regression``: the momentum itself, as a forward-return forecast."""
    if rule == "momentum_prob":
        return 1.0 / (1.0 + np.exp(-50.0 * momentum(bars["close"])))
    if rule == "random":
        return np.random.default_rng(seed).uniform(0.0, 1.0, len(bars))
    return momentum(bars["close"])


def frame(bars: pd.DataFrame, prediction: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"time": bars.index, "close": bars["close"].to_numpy(), "prediction": prediction}
    )


def real_frames(symbols: tuple[str, ...], rule: str, gaps: bool = False) -> dict[str, pd.DataFrame]:
    out = {}
    for seed, symbol in enumerate(symbols):
        bars = load_daily_bars(symbol)
        if gaps:  # a tenth of the bars missing: the symbol's periods span the gaps
            keep = np.random.default_rng(100 + seed).uniform(size=len(bars)) > 0.1
            bars = bars[keep]
        out[symbol] = frame(bars, predictions(bars, rule, seed))
    return out


# ----------------------------------------------------------------------- against the reference


@pytest.mark.parametrize("symbols", [("GOOG",), ("GOOG", "SP500")])
@pytest.mark.parametrize("rule", ["momentum_prob", "random", "regression"])
@pytest.mark.parametrize("strategy", ["long_flat", "long_short"])
@pytest.mark.parametrize("cost_bps", [0.0, 10.0])
def test_every_metric_equals_the_reference_on_real_closes(symbols, rule, strategy, cost_bps):
    frames = real_frames(symbols, rule)
    kind: PredictionKind = "regression" if rule == "regression" else "classification"
    spec = BacktestSpec(strategy=strategy, cost_bps=cost_bps, periods_per_year=DAILY, kind=kind)
    result = run_backtest(frames, spec)
    assert_matches_reference(result, frames, spec)
    # The cases are not degenerate: the strategy trades, and differs from buy-and-hold.
    goog = result.symbols["GOOG"].strategy
    assert goog.turnover > 0.01
    assert 0.1 < goog.exposure <= 1.0
    assert goog.total_return != result.symbols["GOOG"].buy_and_hold.total_return


@pytest.mark.parametrize("strategy", ["long_flat", "long_short"])
def test_a_portfolio_with_missing_bars_and_a_risk_free_rate_equals_the_reference(strategy):
    """GOOG with a tenth of its bars missing beside the S&P 500 (which starts five years
    earlier): the union of times, symbols left out of the mean where they have no bar."""
    frames = real_frames(("GOOG", "SP500"), "momentum_prob", gaps=True)
    spec = BacktestSpec(strategy=strategy, cost_bps=5.0, risk_free=0.03, periods_per_year=DAILY)
    result = run_backtest(frames, spec)
    assert_matches_reference(result, frames, spec)
    sp500_start = load_daily_bars("SP500").index[0].value
    assert result.portfolio.strategy_equity.time_ns[0] == sp500_start


def test_the_exposure_of_one_symbol_is_the_fraction_of_bars_with_a_position():
    frames = real_frames(("GOOG",), "random")
    prediction = frames["GOOG"]["prediction"].to_numpy()
    result = run_backtest(frames, BacktestSpec(strategy="long_flat"))
    # The prediction at the last bar decides no period.
    assert result.portfolio.strategy.exposure == pytest.approx(
        np.count_nonzero(prediction[:-1] > 0.5) / (len(prediction) - 1), rel=1e-12
    )
    short = run_backtest(frames, BacktestSpec(strategy="long_short"))
    assert short.portfolio.strategy.exposure == 1.0


# ------------------------------------------------------------------------------ worked by hand

DAYS = [datetime.fromisoformat(f"2024-01-0{d}T00:00:00+00:00") for d in (2, 3, 4)]


def tiny(strategy: Strategy, cost_bps: float) -> Performance:
    """Closes 100 -> 125 -> 100: returns r0 = +0.25, r1 = -0.2. Predictions 0.9, 0.2, 0.7:
    long_flat holds 1 then 0; long_short +1 then -1 (the 0.7 at the last bar decides nothing).
    Four periods a year, so the annualising is easy to follow."""
    bars = pd.DataFrame(
        {"time": DAYS, "close": [100.0, 125.0, 100.0], "prediction": [0.9, 0.2, 0.7]}
    )
    spec = BacktestSpec(strategy=strategy, cost_bps=cost_bps, periods_per_year=4)
    return run_backtest({"X": bars}, spec).portfolio


def test_long_flat_without_costs_by_hand():
    result = tiny("long_flat", 0.0)
    s = result.strategy
    # net returns [1 * 0.25, 0 * -0.2] = [0.25, 0]; equity 1 -> 1.25 -> 1.25
    assert result.strategy_equity.value == pytest.approx((1.0, 1.25, 1.25), rel=1e-12)
    assert s.total_return == pytest.approx(0.25, rel=1e-12)
    assert s.annualized_return == pytest.approx(1.25 ** (4 / 2) - 1, rel=1e-12)  # 0.5625
    # sample std of [0.25, 0] = 0.25 / sqrt(2); * sqrt(4)
    assert s.annualized_volatility == pytest.approx(0.25 / math.sqrt(2) * 2, rel=1e-12)
    assert s.sharpe == pytest.approx(0.125 / (0.25 / math.sqrt(2)) * 2, rel=1e-12)  # 2 sqrt 2
    assert s.sortino is None  # no period below 0: the downside deviation is 0
    assert s.max_drawdown == 0.0
    assert s.hit_rate == 1.0  # one period held, and it gained
    assert s.turnover == 1.0  # |1 - 0| (entry) and |0 - 1| (exit), over 2 periods
    assert s.exposure == 0.5
    assert s.bars == 2


def test_buy_and_hold_by_hand():
    b = tiny("long_flat", 50.0).buy_and_hold  # buy-and-hold pays no cost
    # net returns [0.25, -0.2]; equity 1 -> 1.25 -> 1.0
    assert b.total_return == pytest.approx(0.0, abs=1e-15)
    assert b.annualized_return == pytest.approx(0.0, abs=1e-15)
    std = 0.45 / math.sqrt(2)  # sample std of [0.25, -0.2]
    assert b.annualized_volatility == pytest.approx(std * 2, rel=1e-12)
    assert b.sharpe == pytest.approx(0.025 / std * 2, rel=1e-12)  # mean 0.025
    # downside deviation sqrt(mean([0, 0.2²])) = sqrt(0.02)
    assert b.sortino == pytest.approx(0.025 / math.sqrt(0.02) * 2, rel=1e-12)
    assert b.max_drawdown == pytest.approx(1 - 1.0 / 1.25, rel=1e-12)  # 0.2
    assert b.hit_rate == 0.5
    assert b.turnover == 0.5  # the entry only
    assert b.exposure == 1.0


def test_long_flat_with_costs_by_hand():
    s = tiny("long_flat", 100.0).strategy
    # cost 0.01 per unit traded: net [0.25 - 0.01 * 1, 0 - 0.01 * 1] = [0.24, -0.01]
    # equity 1 -> 1.24 -> 1.24 * 0.99 = 1.2276
    assert s.total_return == pytest.approx(0.2276, rel=1e-12)
    assert s.max_drawdown == pytest.approx(0.01, rel=1e-9)  # 1 - 1.2276 / 1.24
    assert s.sharpe == pytest.approx(0.115 / (0.25 / math.sqrt(2)) * 2, rel=1e-12)
    # downside deviation sqrt(mean([0, 0.01²])) = sqrt(0.0001 / 2)
    assert s.sortino == pytest.approx(0.115 / math.sqrt(0.0001 / 2) * 2, rel=1e-12)
    assert s.hit_rate == 1.0  # before costs: 1 * 0.25 > 0


def test_long_short_by_hand():
    s = tiny("long_short", 0.0).strategy
    # net [+1 * 0.25, -1 * -0.2] = [0.25, 0.2]; equity 1 -> 1.25 -> 1.5
    assert s.total_return == pytest.approx(0.5, rel=1e-12)
    assert s.turnover == 1.5  # |1 - 0| then |-1 - 1| = 2, over 2 periods
    assert s.exposure == 1.0
    assert s.hit_rate == 1.0
    costly = tiny("long_short", 100.0).strategy
    # net [0.25 - 0.01, 0.2 - 0.02] = [0.24, 0.18]: equity 1.24 * 1.18 = 1.4632
    assert costly.total_return == pytest.approx(0.4632, rel=1e-12)


def test_a_symbol_without_a_bar_contributes_nothing_that_bar_by_hand():
    """X as above; Y has bars on days 2 and 4 only (50 -> 55, +0.1), prediction 0.9 (held).
    Day 3: only X has a period: 0.25. Day 4: mean of X's 0 and Y's 0.1 = 0.05.
    Equity 1 -> 1.25 -> 1.3125. Buy-and-hold: 0.25, then mean(-0.2, 0.1) = -0.05: 1.1875."""
    x = pd.DataFrame({"time": DAYS, "close": [100.0, 125.0, 100.0], "prediction": [0.9, 0.2, 0.7]})
    y = pd.DataFrame({"time": [DAYS[0], DAYS[2]], "close": [50.0, 55.0], "prediction": [0.9, 0.1]})
    result = run_backtest({"X": x, "Y": y}, BacktestSpec(periods_per_year=4)).portfolio
    assert result.strategy_equity.value == pytest.approx((1.0, 1.25, 1.3125), rel=1e-12)
    assert result.buy_and_hold_equity.value == pytest.approx((1.0, 1.25, 1.1875), rel=1e-12)
    # turnover: day 3 X's 1; day 4 mean(X's 1, Y's 1) = 1. exposure: day 3 1; day 4 mean(0, 1)
    assert result.strategy.turnover == 1.0
    assert result.strategy.exposure == 0.75
    assert result.strategy.hit_rate == 1.0  # both periods' book returns are positive
    assert result.strategy.bars == 2


# ---------------------------------------------------------------------------------- properties


@pytest.mark.parametrize("strategy", ["long_flat", "long_short"])
def test_changing_the_prediction_at_t_never_changes_a_return_before_t_plus_1(strategy):
    frames = real_frames(("GOOG",), "momentum_prob")
    base = frames["GOOG"]
    spec = BacktestSpec(strategy=strategy, cost_bps=10.0)
    before = run_backtest(frames, spec).portfolio.strategy_equity.value
    n = len(base)
    rng = np.random.default_rng(3)
    for t in (0, 1, 5, 100, 1000, n - 2, n - 1):
        changed = base.copy()
        p = changed.loc[t, "prediction"]
        changed.loc[t, "prediction"] = 0.01 if p > 0.5 else 0.99  # the position at t flips
        changed.loc[t + 1 :, "prediction"] = rng.uniform(size=n - t - 1)  # and the future too
        after = run_backtest({"GOOG": changed}, spec).portfolio.strategy_equity.value
        # equity[k] is at bar k's time: it compounds the periods ending at bars 1..k
        assert after[: t + 1] == before[: t + 1], t
        if t < n - 1:  # the flip shows at t + 1 (a cost is paid at least), so the test can fail
            assert after[t + 1] != before[t + 1], t


def test_buy_and_hold_is_the_close_to_close_compounded_return():
    bars = load_daily_bars("GOOG")
    frames = {"GOOG": frame(bars, predictions(bars, "random", 0))}
    close = bars["close"].to_numpy()
    for spec in (BacktestSpec(), BacktestSpec(strategy="long_short", cost_bps=25.0)):
        result = run_backtest(frames, spec).portfolio
        assert result.buy_and_hold.total_return == pytest.approx(
            close[-1] / close[0] - 1.0, rel=1e-12
        )
        np.testing.assert_allclose(result.buy_and_hold_equity.value, close / close[0], rtol=1e-12)
        assert result.buy_and_hold_equity.time_ns == tuple(bars.index.asi8.tolist())
        assert result.buy_and_hold.bars == len(bars) - 1


def test_row_order_and_naive_times_do_not_matter():
    frames = real_frames(("GOOG",), "random")
    spec = BacktestSpec(strategy="long_short", cost_bps=3.0)
    shuffled = frames["GOOG"].sample(frac=1.0, random_state=1)
    naive = frames["GOOG"].assign(time=frames["GOOG"]["time"].dt.tz_localize(None))
    expected = run_backtest(frames, spec).to_json()
    assert run_backtest({"GOOG": shuffled}, spec).to_json() == expected
    assert run_backtest({"GOOG": naive}, spec).to_json() == expected


def test_a_portfolio_of_one_symbol_twice_is_that_symbol():
    frames = real_frames(("GOOG",), "momentum_prob")
    spec = BacktestSpec(cost_bps=10.0)
    one = run_backtest(frames, spec)
    assert one.portfolio == one.symbols["GOOG"]
    two = run_backtest({"A": frames["GOOG"], "B": frames["GOOG"]}, spec).portfolio
    for side in ("strategy", "buy_and_hold"):
        assert_close(
            getattr(two, side).to_json(), getattr(one.portfolio, side).to_json(), f"twice {side}"
        )


def test_the_result_is_json_and_reads_back():
    frames = real_frames(("GOOG", "SP500"), "momentum_prob")
    frames["FLAT"] = pd.DataFrame(
        {"time": DAYS, "close": [10.0, 11.0, 12.0], "prediction": [0.1, 0.1, 0.1]}
    )  # never holds: its Sharpe, Sortino and hit rate are undefined (null)
    result = run_backtest(frames, BacktestSpec.for_timeframe(BarTimeframe.DAY_1, cost_bps=2.0))
    document = json.loads(json.dumps(result.to_json(), allow_nan=False))
    flat = document["symbols"]["FLAT"]["strategy"]
    assert flat["sharpe"] is None
    assert flat["sortino"] is None
    assert flat["hit_rate"] is None
    assert document["spec"]["threshold"] == 0.5
    assert document["portfolio"]["strategy_equity"]["time"][0] == "1999-01-04T00:00:00.000000000Z"
    goog = result.symbols["GOOG"].strategy_equity
    assert document["symbols"]["GOOG"]["strategy_equity"]["time"] == [
        rfc3339_ns(t) for t in goog.time_ns
    ]
    assert result_from_json(document).to_json() == result.to_json()
    curve = result.symbols["GOOG"].strategy_equity.to_series()
    assert curve.index[0] == pd.Timestamp("2004-08-19", tz="UTC")
    assert curve.iloc[0] == 1.0


def test_periods_per_year_by_timeframe():
    assert periods_per_year(BarTimeframe.DAY_1) == 252
    assert periods_per_year(BarTimeframe.HOUR_1) == 1638  # 252 * 6.5
    assert periods_per_year(BarTimeframe.MINUTE_1) == 252 * 390
    assert {periods_per_year(t) for t in BarTimeframe} == {252, 1638, 98280}
    assert BacktestSpec.for_timeframe(BarTimeframe.HOUR_1).periods_per_year == 1638


def test_the_default_threshold_depends_on_the_kind():
    assert BacktestSpec().cut == 0.5
    assert BacktestSpec(kind="regression").cut == 0.0
    assert BacktestSpec(threshold=0.6).cut == 0.6


# -------------------------------------------------------------------------------------- errors


def good() -> pd.DataFrame:
    return pd.DataFrame({"time": DAYS, "close": [100.0, 101.0, 102.0], "prediction": [0.6] * 3})


@pytest.mark.parametrize(
    ("frames", "spec", "message"),
    [
        ({}, BacktestSpec(), "backtest has no symbols"),
        ({"X": good().iloc[:0]}, BacktestSpec(), "X has 0 bar(s)"),
        ({"X": good().iloc[:1]}, BacktestSpec(), "X has 1 bar(s)"),
        ({"X": good().drop(columns="prediction")}, BacktestSpec(), "no column(s) prediction"),
        (
            {"X": good().assign(close=[100.0, np.nan, 102.0])},
            BacktestSpec(),
            "1 close(s) are NaN or infinite (first at 2024-01-03T00:00:00",
        ),
        ({"X": good().assign(close=[100.0, 0.0, 102.0])}, BacktestSpec(), "zero or negative"),
        (
            {"X": good().assign(prediction=[0.5, 1.2, -0.01])},
            BacktestSpec(),
            "2 prediction(s) are outside [0, 1] (first 1.2 at 2024-01-03",
        ),
        (
            {"X": good().assign(prediction=[0.5, np.nan, 0.1])},
            BacktestSpec(kind="regression"),
            "1 prediction(s) are NaN",
        ),
        ({"X": good().assign(time=[DAYS[0]] * 3)}, BacktestSpec(), "appears more than once"),
        ({"X": good().assign(close=["a", "b", "c"])}, BacktestSpec(), "close is not numeric"),
    ],
)
def test_bad_frames_are_refused_with_what_and_how(frames, spec, message):
    with pytest.raises(UserError) as error:
        run_backtest(frames, spec)
    assert message in str(error.value)
    assert error.value.hint


def test_forward_returns_outside_0_1_are_fine_for_a_regression():
    frames = {"X": good().assign(prediction=[0.02, -0.03, 1.5])}
    result = run_backtest(frames, BacktestSpec(kind="regression", strategy="long_short"))
    assert result.portfolio.strategy.turnover == pytest.approx((1 + 2) / 2)  # +1 then -1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cost_bps": -1.0}, "cost_bps is -1.0: a cost cannot be negative"),
        ({"cost_bps": math.nan}, "cost_bps is nan"),
        ({"strategy": "short_only"}, "strategy 'short_only' is not known"),
        ({"threshold": 1.5}, "threshold 1.5 is not a probability"),
        ({"threshold": math.inf, "kind": "regression"}, "threshold is inf"),
        ({"periods_per_year": 0}, "periods_per_year is 0"),
        ({"kind": "ranking"}, "kind 'ranking' is not known"),
        ({"risk_free": -2.0}, "risk_free is -2.0"),
    ],
)
def test_bad_specs_are_refused_with_what_and_how(fields, message):
    with pytest.raises(UserError) as error:
        BacktestSpec(**fields)
    assert message in str(error.value)
    assert error.value.hint
