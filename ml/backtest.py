"""Backtests of a model's predictions: long/flat or long/short, with transaction costs, against
buy-and-hold on the same bars (``run_backtest``).

Input, per symbol: a frame with ``time`` (the bar's time; a time without a zone is UTC),
``close`` (the price the strategy trades at) and ``prediction`` (a classification probability
in [0, 1], or a regression forward return).

The rules, for one symbol with bars 0..n-1 in time order:

- The position decided at bar t's close, from the prediction at t, is held over the simple
  return ``r_t = close[t+1] / close[t] - 1``. The prediction at the last bar decides nothing
  (there is no return after it), so a symbol with n bars gives n - 1 *periods*, each labelled by
  the time of the bar it ends at: nothing at or before bar t depends on the prediction at t.
- ``long_flat``: position 1 when prediction > threshold, else 0. ``long_short``: +1 when
  prediction > threshold, else -1 (a prediction equal to the threshold is not above it).
  The threshold defaults to 0.5 for classification probabilities and 0.0 for regression.
- A period's net return is ``p_t * r_t - cost * |p_t - p_(t-1)|`` with ``p_(-1) = 0`` and
  ``cost = cost_bps / 10_000``: the cost of each rebalance, the first entry included, is
  charged (additively) in the period that follows it. The last position is not closed out (no
  exit cost): the equity is marked to the last close.
- Buy-and-hold is position 1 on every period of the same bars with no cost, so its total return
  is exactly ``close[-1] / close[0] - 1``.

Several symbols make an equal-weight portfolio of the per-symbol strategies, rebalanced every
period: at each time in the union of the symbols' period end times, the portfolio's return is the
mean of the returns of the symbols that have a period ending then. A symbol without a bar at that
time contributes nothing (it is left out of the mean, not counted as a zero); its next period
spans the gap. The rebalancing back to equal weights is free: the only costs are the symbols' own.

Metrics (``Metrics``), for the strategy and for buy-and-hold, of the series of per-period net
returns ``x`` (length ``bars``) and the equity curve ``E`` (1.0 at the first bar's time, then
``E * (1 + x)`` at each period's end):

- ``total_return`` = E[-1] - 1; ``annualized_return`` = (1 + total_return) ** (P / bars) - 1
  (geometric; -1 when the equity reached zero or below), with P = ``periods_per_year``.
- ``annualized_volatility`` = sample std (ddof 1) of x * sqrt(P).
- ``sharpe`` = mean(e) / sample std(e) * sqrt(P), where e = x - rf and rf the per-period rate
  ``(1 + risk_free) ** (1 / P) - 1`` of the annual ``risk_free`` (0 by default).
- ``sortino`` = mean(e) / D * sqrt(P), with the downside deviation D = sqrt(mean(min(e, 0)²))
  over *all* periods (the target is the risk-free rate; periods above it count as zero; the
  mean is over all periods, not only the losing ones).
- ``max_drawdown`` = max over t of 1 - E[t] / max(E[:t+1]) (E including the starting 1.0), as a
  positive fraction (0 when the equity never fell).
- ``hit_rate``: among periods with a non-zero position, the fraction where position * return
  (before costs) > 0.
- ``turnover``: mean |position change| per period (the first entry included);
  ``exposure``: the fraction of periods with a non-zero position.

A portfolio's metrics are the same formulas applied to the book with weights p_s / n (n the
symbols with a period ending at that time): its position * return is the mean of the symbols'
p_s * r_s, its position change the mean of their |Δp_s|, its exposure the mean of their |p_s|
(the average fraction of capital at risk; for one symbol the fraction of periods with a
position). A ratio whose denominator is zero, or that needs more periods than there are (a
standard deviation of one period), is ``None`` (null in JSON).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from streamlines.contracts.time import rfc3339_ns
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError

Strategy = Literal["long_flat", "long_short"]
PredictionKind = Literal["classification", "regression"]

BPS = 10_000.0
COLUMNS = ("time", "close", "prediction")

_TRADING_DAYS = 252
_PERIODS_PER_YEAR: dict[BarTimeframe, int] = {
    BarTimeframe.DAY_1: _TRADING_DAYS,
    BarTimeframe.HOUR_1: int(_TRADING_DAYS * 6.5),  # the 6.5-hour US regular session
    BarTimeframe.MINUTE_1: _TRADING_DAYS * 390,  # 390 minutes in the regular session
}
_DEFAULT_THRESHOLD: dict[str, float] = {"classification": 0.5, "regression": 0.0}


def periods_per_year(timeframe: BarTimeframe) -> int:
    """Bars in a trading year: 252 days; 252 * 6.5 = 1638 hours; 252 * 390 minutes."""
    return _PERIODS_PER_YEAR[BarTimeframe(timeframe)]


@dataclass(frozen=True)
class BacktestSpec:
    """How to trade the predictions. ``kind`` says what the predictions are (it sets the default
    threshold and whether they must be probabilities)."""

    strategy: Strategy = "long_flat"
    cost_bps: float = 0.0
    threshold: float | None = None
    periods_per_year: int = _TRADING_DAYS
    risk_free: float = 0.0
    kind: PredictionKind = "classification"

    def __post_init__(self) -> None:
        _check_spec(self)

    @classmethod
    def for_timeframe(cls, timeframe: BarTimeframe, **fields: Any) -> BacktestSpec:
        """A spec whose ``periods_per_year`` comes from the bars' timeframe."""
        return cls(periods_per_year=periods_per_year(timeframe), **fields)

    @property
    def cut(self) -> float:
        """The threshold in effect: the given one, else the kind's default."""
        return _DEFAULT_THRESHOLD[self.kind] if self.threshold is None else float(self.threshold)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "threshold": self.cut}


def _check_spec(spec: BacktestSpec) -> None:
    if spec.strategy not in get_args(Strategy):
        raise UserError(
            f"backtest strategy {spec.strategy!r} is not known",
            "use 'long_flat' or 'long_short'",
        )
    if spec.kind not in get_args(PredictionKind):
        raise UserError(
            f"backtest prediction kind {spec.kind!r} is not known",
            "use 'classification' or 'regression'",
        )
    if not (math.isfinite(spec.cost_bps) and spec.cost_bps >= 0):
        raise UserError(
            f"backtest cost_bps is {spec.cost_bps}: a cost cannot be negative",
            "give the cost per unit of position traded in basis points, 0 or more (e.g. 5)",
        )
    if spec.threshold is not None and not math.isfinite(spec.threshold):
        raise UserError(f"backtest threshold is {spec.threshold}", "give a finite number")
    if spec.kind == "classification" and not 0.0 <= spec.cut <= 1.0:
        raise UserError(
            f"backtest threshold {spec.cut} is not a probability",
            "a classification threshold is between 0 and 1 (default 0.5)",
        )
    if isinstance(spec.periods_per_year, bool) or spec.periods_per_year < 1:
        raise UserError(
            f"backtest periods_per_year is {spec.periods_per_year}",
            "give a positive number of bars per year (periods_per_year(timeframe))",
        )
    if not (math.isfinite(spec.risk_free) and spec.risk_free > -1):
        raise UserError(
            f"backtest risk_free is {spec.risk_free}", "give an annual rate above -1 (e.g. 0.02)"
        )


@dataclass(frozen=True)
class Metrics:
    total_return: float
    annualized_return: float
    annualized_volatility: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float
    hit_rate: float | None
    turnover: float
    exposure: float
    bars: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EquityCurve:
    """Equity (1.0 at the first bar) at each time, in UTC nanoseconds."""

    time_ns: tuple[int, ...]
    value: tuple[float, ...]

    def to_series(self) -> pd.Series:
        index = pd.to_datetime(np.asarray(self.time_ns, dtype="int64"), utc=True)
        return pd.Series(self.value, index=index.rename("time"), name="equity", dtype="float64")

    def to_json(self) -> dict[str, Any]:
        """Times in RFC 3339 with nine fraction digits (as ``rfc3339_ns``, vectorised)."""
        times = np.asarray(self.time_ns, dtype="int64").astype("datetime64[ns]")
        text = np.datetime_as_string(times, unit="ns", timezone="UTC")
        return {"time": text.tolist(), "equity": list(self.value)}


@dataclass(frozen=True)
class Performance:
    """One book (a symbol or the portfolio): the strategy and buy-and-hold on the same bars."""

    strategy: Metrics
    buy_and_hold: Metrics
    strategy_equity: EquityCurve = field(repr=False)
    buy_and_hold_equity: EquityCurve = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy.to_json(),
            "buy_and_hold": self.buy_and_hold.to_json(),
            "strategy_equity": self.strategy_equity.to_json(),
            "buy_and_hold_equity": self.buy_and_hold_equity.to_json(),
        }


@dataclass(frozen=True)
class BacktestResult:
    """The equal-weight portfolio of every symbol (the symbol itself when there is one) and
    each symbol on its own."""

    spec: BacktestSpec
    portfolio: Performance
    symbols: Mapping[str, Performance]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types only (``json.dumps`` takes it as is); times in RFC 3339."""
        return {
            "spec": self.spec.to_json(),
            "portfolio": self.portfolio.to_json(),
            "symbols": {name: result.to_json() for name, result in self.symbols.items()},
        }


@dataclass(frozen=True)
class _Book:
    """Per-period columns ``gross`` (position * return), ``turnover`` (|position change|) and
    ``exposure`` (|position|), indexed by the period's end time in ns; ``start_ns`` is the time
    the equity curve starts at."""

    start_ns: int
    periods: pd.DataFrame


def run_backtest(frames: Mapping[str, pd.DataFrame], spec: BacktestSpec) -> BacktestResult:
    """Backtest the predictions of each symbol's frame (``time``, ``close``, ``prediction``)."""
    if not frames:
        raise UserError(
            "backtest has no symbols", "give at least one symbol's frame of predictions"
        )
    strategy: dict[str, _Book] = {}
    benchmark: dict[str, _Book] = {}
    for symbol, frame in frames.items():
        times, close, prediction = _prepare(symbol, frame, spec)
        strategy[symbol] = _book(times, close, _positions(prediction, spec))
        benchmark[symbol] = _book(times, close, np.ones_like(close))
    symbols = {name: _performance(strategy[name], benchmark[name], spec) for name in strategy}
    if len(symbols) == 1:
        portfolio = next(iter(symbols.values()))
    else:
        portfolio = _performance(
            _combine(list(strategy.values())), _combine(list(benchmark.values())), spec
        )
    return BacktestResult(spec=spec, portfolio=portfolio, symbols=symbols)


def _prepare(
    symbol: str, frame: pd.DataFrame, spec: BacktestSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frame's times (ns), closes and predictions in time order, checked."""
    missing = [name for name in COLUMNS if name not in frame.columns]
    if missing:
        raise UserError(
            f"backtest frame of {symbol} has no column(s) {', '.join(missing)}",
            "give each symbol a frame with columns time, close and prediction",
        )
    if len(frame) < 2:
        raise UserError(
            f"backtest frame of {symbol} has {len(frame)} bar(s): there is no return to trade",
            "give at least two bars per symbol (widen the range)",
        )
    ordered = frame.assign(time=_times(symbol, frame["time"])).sort_values("time", kind="stable")
    times = ordered["time"].to_numpy(dtype="int64")
    close = _numbers(symbol, "close", ordered)
    prediction = _numbers(symbol, "prediction", ordered)
    _check_closes(symbol, times, close)
    _check_predictions(symbol, times, prediction, spec)
    return times, close, prediction


def _times(symbol: str, time: pd.Series) -> pd.Series:
    try:
        parsed = pd.to_datetime(time, utc=True)
    except (ValueError, TypeError) as error:
        raise UserError(
            f"backtest frame of {symbol}: column time is not times ({error})",
            "give time as datetimes (UTC)",
        ) from None
    if parsed.isna().any():
        raise UserError(
            f"backtest frame of {symbol}: column time has missing values",
            "drop the rows without a time",
        )
    if parsed.duplicated().any():
        first = parsed[parsed.duplicated()].iloc[0]
        raise UserError(
            f"backtest frame of {symbol}: time {first.isoformat()} appears more than once",
            "give one row per bar",
        )
    return parsed.astype("datetime64[ns, UTC]").astype("int64")


def _numbers(symbol: str, column: str, frame: pd.DataFrame) -> np.ndarray:
    try:
        return frame[column].to_numpy(dtype="float64")
    except (ValueError, TypeError):
        raise UserError(
            f"backtest frame of {symbol}: column {column} is not numeric",
            f"give {column} as numbers",
        ) from None


def _first_time(times: np.ndarray, bad: np.ndarray) -> str:
    return rfc3339_ns(int(times[np.flatnonzero(bad)[0]]))


def _check_closes(symbol: str, times: np.ndarray, close: np.ndarray) -> None:
    bad = ~np.isfinite(close)
    if bad.any():
        raise UserError(
            f"backtest frame of {symbol}: {int(bad.sum())} close(s) are NaN or infinite "
            f"(first at {_first_time(times, bad)})",
            "drop the bars without a close, or fill them from the price store",
        )
    bad = close <= 0
    if bad.any():
        raise UserError(
            f"backtest frame of {symbol}: {int(bad.sum())} close(s) are zero or negative "
            f"(first at {_first_time(times, bad)})",
            "closes must be positive prices",
        )


def _check_predictions(
    symbol: str, times: np.ndarray, prediction: np.ndarray, spec: BacktestSpec
) -> None:
    bad = ~np.isfinite(prediction)
    if bad.any():
        raise UserError(
            f"backtest frame of {symbol}: {int(bad.sum())} prediction(s) are NaN or infinite "
            f"(first at {_first_time(times, bad)})",
            "score every bar, or drop the bars without a prediction",
        )
    bad = (prediction < 0.0) | (prediction > 1.0)
    if spec.kind == "classification" and bad.any():
        raise UserError(
            f"backtest frame of {symbol}: {int(bad.sum())} prediction(s) are outside [0, 1] "
            f"(first {float(prediction[bad][0])!r} at {_first_time(times, bad)}), but the backtest "
            "takes them as classification probabilities",
            "for a regression model's forward returns, use kind='regression' (threshold 0.0)",
        )


def _positions(prediction: np.ndarray, spec: BacktestSpec) -> np.ndarray:
    above = prediction > spec.cut
    otherwise = 0.0 if spec.strategy == "long_flat" else -1.0
    return np.where(above, 1.0, otherwise)


def _book(times: np.ndarray, close: np.ndarray, position: np.ndarray) -> _Book:
    returns = close[1:] / close[:-1] - 1.0
    held = position[:-1]
    change = np.abs(np.diff(held, prepend=0.0))
    periods = pd.DataFrame(
        {"gross": held * returns, "turnover": change, "exposure": np.abs(held)},
        index=pd.Index(times[1:], name="time_ns"),
    )
    return _Book(start_ns=int(times[0]), periods=periods)


def _combine(books: list[_Book]) -> _Book:
    """The equal-weight book: at each end time, the mean over the symbols with a period then."""
    stacked = pd.concat([book.periods for book in books])
    periods = stacked.groupby(level="time_ns", sort=True).mean()
    return _Book(start_ns=min(book.start_ns for book in books), periods=periods)


def _performance(strategy: _Book, benchmark: _Book, spec: BacktestSpec) -> Performance:
    metrics, equity = _evaluate(strategy, spec.cost_bps / BPS, spec)
    bh_metrics, bh_equity = _evaluate(benchmark, 0.0, spec)
    return Performance(metrics, bh_metrics, equity, bh_equity)


def _evaluate(book: _Book, cost: float, spec: BacktestSpec) -> tuple[Metrics, EquityCurve]:
    gross = book.periods["gross"].to_numpy()
    exposure = book.periods["exposure"].to_numpy()
    net = gross - cost * book.periods["turnover"].to_numpy()
    equity = np.concatenate([[1.0], np.cumprod(1.0 + net)])
    per_year = spec.periods_per_year
    excess = net - ((1.0 + spec.risk_free) ** (1.0 / per_year) - 1.0)
    holding = exposure > 0
    metrics = Metrics(
        total_return=float(equity[-1] - 1.0),
        annualized_return=_annualized(float(equity[-1]), len(net), per_year),
        annualized_volatility=_scaled(_sample_std(net), per_year),
        sharpe=_ratio(float(excess.mean()), _sample_std(excess), per_year),
        sortino=_ratio(
            float(excess.mean()), float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))), per_year
        ),
        max_drawdown=float(np.max(1.0 - equity / np.maximum.accumulate(equity))),
        hit_rate=float(np.mean(gross[holding] > 0)) if holding.any() else None,
        turnover=float(book.periods["turnover"].mean()),
        exposure=float(exposure.mean()),
        bars=len(net),
    )
    times = (book.start_ns, *book.periods.index.to_numpy(dtype="int64").tolist())
    return metrics, EquityCurve(time_ns=times, value=tuple(equity.tolist()))


def _annualized(final_equity: float, bars: int, per_year: int) -> float:
    if final_equity <= 0:
        return -1.0
    return float(final_equity ** (per_year / bars) - 1.0)


def _sample_std(values: np.ndarray) -> float | None:
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def _scaled(value: float | None, per_year: int) -> float | None:
    return None if value is None else value * math.sqrt(per_year)


def _ratio(mean: float, deviation: float | None, per_year: int) -> float | None:
    if deviation is None or deviation == 0 or not math.isfinite(deviation):
        return None
    return mean / deviation * math.sqrt(per_year)


def result_from_json(document: Mapping[str, Any]) -> BacktestResult:
    """A ``BacktestResult`` from its ``to_json()`` document (as stored beside a model)."""
    spec = BacktestSpec(**document["spec"])
    symbols = {name: _performance_from_json(doc) for name, doc in document["symbols"].items()}
    return BacktestResult(spec, _performance_from_json(document["portfolio"]), symbols)


def _performance_from_json(document: Mapping[str, Any]) -> Performance:
    return Performance(
        strategy=Metrics(**document["strategy"]),
        buy_and_hold=Metrics(**document["buy_and_hold"]),
        strategy_equity=_equity_from_json(document["strategy_equity"]),
        buy_and_hold_equity=_equity_from_json(document["buy_and_hold_equity"]),
    )


def _equity_from_json(document: Mapping[str, Any]) -> EquityCurve:
    times = pd.to_datetime(pd.Series(document["time"], dtype="object"), utc=True)
    return EquityCurve(
        time_ns=tuple(times.astype("datetime64[ns, UTC]").astype("int64").tolist()),
        value=tuple(float(v) for v in document["equity"]),
    )
