"""An independent backtest to check ``ml/backtest.py`` against: plain Python loops over the bars
(no NumPy or pandas arithmetic), the same rules and metric conventions as ``ml.backtest``'s
docstring, written the other way round where there is one:

- per symbol, the net return of each period is formed first (position * return minus cost), and
  the portfolio averages those (``ml.backtest`` averages position * return and |Δposition| and
  nets them afterwards);
- returns are ``(c1 - c0) / c0``; the sample standard deviation is ``statistics.stdev``;
  the drawdown is tracked bar by bar against the running peak.

``reference_backtest`` returns ``{"portfolio": book, "symbols": {symbol: book}}`` where a book is
``{"strategy": metrics, "buy_and_hold": metrics, "strategy_equity": [(t_ns, equity), ...],
"buy_and_hold_equity": [...]}`` and metrics a dict keyed like ``ml.backtest.Metrics`` (``None``
where a ratio is undefined).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

import numpy as np
import pandas as pd

from ml.backtest import BacktestResult, BacktestSpec, Performance
from tests.references.compare import assert_close

# A period: (end time in ns, position * return, |position change|, |position|, net return).
Period = tuple[int, float, float, float, float]


def reference_backtest(
    frames: dict[str, pd.DataFrame],
    strategy: str,
    cost_bps: float,
    threshold: float,
    periods_per_year: int,
    risk_free: float = 0.0,
) -> dict:
    cost = cost_bps / 10_000.0
    symbols: dict[str, dict] = {}
    all_strategy: dict[str, tuple[int, list[Period]]] = {}
    all_benchmark: dict[str, tuple[int, list[Period]]] = {}
    for symbol, frame in frames.items():
        rows = _rows(frame)
        short = -1.0 if strategy == "long_short" else 0.0
        positions = [1.0 if p > threshold else short for _, _, p in rows]
        all_strategy[symbol] = (rows[0][0], _periods(rows, positions, cost))
        all_benchmark[symbol] = (rows[0][0], _periods(rows, [1.0] * len(rows), 0.0))
        symbols[symbol] = _book(
            all_strategy[symbol], all_benchmark[symbol], periods_per_year, risk_free
        )
    portfolio = _book(
        _portfolio(list(all_strategy.values())),
        _portfolio(list(all_benchmark.values())),
        periods_per_year,
        risk_free,
    )
    return {"portfolio": portfolio, "symbols": symbols}


def _rows(frame: pd.DataFrame) -> list[tuple[int, float, float]]:
    rows = []
    for time, close, prediction in zip(
        frame["time"], frame["close"], frame["prediction"], strict=True
    ):
        stamp = pd.Timestamp(time)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        rows.append((int(stamp.value), float(close), float(prediction)))
    rows.sort(key=lambda row: row[0])
    return rows


def _periods(
    rows: list[tuple[int, float, float]], positions: list[float], cost: float
) -> list[Period]:
    out = []
    before = 0.0
    for i in range(len(rows) - 1):
        _, c0, _ = rows[i]
        t1, c1, _ = rows[i + 1]
        change = (c1 - c0) / c0
        position = positions[i]
        traded = abs(position - before)
        gross = position * change
        out.append((t1, gross, traded, abs(position), gross - cost * traded))
        before = position
    return out


def _portfolio(books: list[tuple[int, list[Period]]]) -> tuple[int, list[Period]]:
    by_time: dict[int, list[Period]] = defaultdict(list)
    for _, periods in books:
        for period in periods:
            by_time[period[0]].append(period)
    out = []
    for t in sorted(by_time):
        group = by_time[t]
        n = len(group)
        out.append(
            (
                t,
                sum(p[1] for p in group) / n,
                sum(p[2] for p in group) / n,
                sum(p[3] for p in group) / n,
                sum(p[4] for p in group) / n,
            )
        )
    return min(start for start, _ in books), out


def _book(
    strategy: tuple[int, list[Period]],
    benchmark: tuple[int, list[Period]],
    periods_per_year: int,
    risk_free: float,
) -> dict:
    metrics, equity = _metrics(*strategy, periods_per_year, risk_free)
    bh_metrics, bh_equity = _metrics(*benchmark, periods_per_year, risk_free)
    return {
        "strategy": metrics,
        "buy_and_hold": bh_metrics,
        "strategy_equity": equity,
        "buy_and_hold_equity": bh_equity,
    }


def _metrics(
    start: int, periods: list[Period], per_year: int, risk_free: float
) -> tuple[dict, list[tuple[int, float]]]:
    n = len(periods)
    rf = math.pow(1.0 + risk_free, 1.0 / per_year) - 1.0
    net = [p[4] for p in periods]
    excess = [x - rf for x in net]

    equity = [(start, 1.0)]
    value, peak, drawdown = 1.0, 1.0, 0.0
    for period, x in zip(periods, net, strict=True):
        value = value * (1.0 + x)
        equity.append((period[0], value))
        peak = max(peak, value)
        drawdown = max(drawdown, (peak - value) / peak)

    mean_excess = sum(excess) / n
    std = statistics.stdev(net) if n > 1 else None
    std_excess = statistics.stdev(excess) if n > 1 else None
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in excess) / n)
    holding = [p for p in periods if p[3] != 0.0]
    hits = sum(1 for p in holding if p[1] > 0.0)
    annual = math.sqrt(per_year)
    metrics = {
        "total_return": value - 1.0,
        "annualized_return": math.pow(value, per_year / n) - 1.0 if value > 0 else -1.0,
        "annualized_volatility": None if std is None else std * annual,
        "sharpe": None if not std_excess else mean_excess / std_excess * annual,
        "sortino": None if downside == 0.0 else mean_excess / downside * annual,
        "max_drawdown": drawdown,
        "hit_rate": hits / len(holding) if holding else None,
        "turnover": sum(p[2] for p in periods) / n,
        "exposure": sum(p[3] for p in periods) / n,
        "bars": n,
    }
    return metrics, equity


def assert_book(received: Performance, expected: dict, what: str) -> None:
    for side in ("strategy", "buy_and_hold"):
        got = getattr(received, side).to_json()
        assert set(got) == set(expected[side])
        assert_close(got, expected[side], f"{what} {side}")
        curve = getattr(received, f"{side}_equity")
        times, values = zip(*expected[f"{side}_equity"], strict=True)
        assert curve.time_ns == times, f"{what} {side} equity times"
        np.testing.assert_allclose(curve.value, values, rtol=1e-9, atol=0, err_msg=what)


def assert_matches_reference(result: BacktestResult, frames: dict, spec: BacktestSpec) -> None:
    expected = reference_backtest(
        frames, spec.strategy, spec.cost_bps, spec.cut, spec.periods_per_year, spec.risk_free
    )
    assert set(result.symbols) == set(expected["symbols"])
    for symbol, book in expected["symbols"].items():
        assert_book(result.symbols[symbol], book, symbol)
    assert_book(result.portfolio, expected["portfolio"], "portfolio")
