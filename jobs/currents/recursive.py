"""The recursive indicators of the currents job, in plain Python: EMA, Wilder's RSI, MACD and
moving-average crossovers (of the EMAs here, and of the SMAs that Flink SQL computes). One
``SymbolIndicators`` per (symbol, timeframe) series takes its prices (and SMAs) in time order and
says what to publish at each bar. No Flink here (``process.py`` wraps it in a keyed process
function), so it is unit-tested directly against pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from streamlines.contracts.metrics import crossover_name

Values = dict[str, float | None]


@dataclass
class Ema:
    """pandas ``ewm(span=period, adjust=False)``: alpha = 2 / (period + 1), the first value is the
    first input, then ``ema = (1 - alpha) * ema + alpha * x``. ``reported`` is None for the first
    ``period - 1`` inputs (pandas ``min_periods=period``): the seed still dominates them."""

    period: int
    value: float | None = None
    count: int = 0

    def update(self, x: float) -> float:
        self.count += 1
        if self.value is None:
            self.value = x
        else:
            alpha = 2.0 / (self.period + 1)
            self.value = (1.0 - alpha) * self.value + alpha * x
        return self.value

    @property
    def reported(self) -> float | None:
        return self.value if self.count >= self.period else None


@dataclass
class WilderRsi:
    """RSI with Wilder's smoothing. The changes are ``close[i] - close[i - 1]``; gains are the
    positive changes, losses the negated negative ones. Seed: the average gain and the average
    loss of the first ``period`` changes (a simple mean), so the first RSI is at the bar after
    ``period`` changes (bar ``period + 1``); after it ``avg = (avg * (period - 1) + x) / period``.
    RSI = 100 - 100 / (1 + avg_gain / avg_loss); 100 when avg_loss is 0, 50 when both are 0."""

    period: int = 14
    previous: float | None = None
    changes: int = 0
    avg_gain: float = 0.0  # a sum until the seed is complete
    avg_loss: float = 0.0

    def update(self, x: float) -> float | None:
        if self.previous is None:
            self.previous = x
            return None
        change = x - self.previous
        self.previous = x
        gain, loss = max(change, 0.0), max(-change, 0.0)
        self.changes += 1
        n = self.period
        if self.changes < n:
            self.avg_gain += gain
            self.avg_loss += loss
            return None
        if self.changes == n:
            self.avg_gain = (self.avg_gain + gain) / n
            self.avg_loss = (self.avg_loss + loss) / n
        else:
            self.avg_gain = (self.avg_gain * (n - 1) + gain) / n
            self.avg_loss = (self.avg_loss * (n - 1) + loss) / n
        return rsi(self.avg_gain, self.avg_loss)


def rsi(avg_gain: float, avg_loss: float) -> float:
    if avg_loss == 0.0:
        return 100.0 if avg_gain > 0.0 else 50.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


@dataclass
class Crossover:
    """Which of two moving averages is above the other: +1 (fast above slow: bullish) or -1
    (bearish). Equal values keep the previous state. ``update`` returns ``(state, crossed)`` when
    the state is first known (crossed = 0) and whenever it flips (crossed = 1), else None."""

    state: int = 0

    def update(self, fast: float | None, slow: float | None) -> tuple[int, int] | None:
        if fast is None or slow is None or fast == slow:
            return None
        state = 1 if fast > slow else -1
        if state == self.state:
            return None
        crossed = 0 if self.state == 0 else 1
        self.state = state
        return state, crossed


@dataclass(frozen=True)
class RecursiveConfig:
    ema_periods: tuple[int, ...] = (20, 50, 200)
    rsi_period: int = 14
    macd: tuple[int, int, int] = (12, 26, 9)  # fast, slow, signal
    ema_crossovers: tuple[tuple[int, int], ...] = ((12, 26),)  # (fast, slow) periods
    sma_crossovers: tuple[tuple[int, int], ...] = ()  # (fast, slow): SMAs given to update

    def all_ema_periods(self) -> list[int]:
        crossing = [p for pair in self.ema_crossovers for p in pair]
        return sorted({*self.ema_periods, self.macd[0], self.macd[1], *crossing})


@dataclass
class SymbolIndicators:
    """Every recursive indicator of one (symbol, timeframe) series. ``update(price, smas)``
    returns the records to publish at that bar, as ``(name, values)``:

    ``ema``        ``ema_<n>`` for each EMA period, once the shortest one is reported;
    ``rsi``        ``rsi_<n>``, from bar n + 1;
    ``macd``       macd = EMA(fast) - EMA(slow), signal = EMA(signal) of macd, histogram =
                   macd - signal; all seeded at the first bar (macd's first value is 0). macd is
                   reported from bar ``slow``, signal and histogram from bar ``slow + signal - 1``;
    ``cross_ema<f>_ema<s>``  signal (+1/-1), cross (0 first state, 1 flip), fast, slow: only at
                   the bars where the state is first known or flips;
    ``cross_sma<f>_sma<s>``  the same of the SMAs in ``smas`` (period -> SMA at this bar, None
                   while warming up).
    """

    config: RecursiveConfig
    emas: dict[int, Ema] = field(default_factory=dict)
    rsi: WilderRsi = field(default_factory=WilderRsi)
    macd_signal: Ema = field(default_factory=lambda: Ema(9))
    crossovers: list[Crossover] = field(default_factory=list)
    sma_crossings: list[Crossover] = field(default_factory=list)
    count: int = 0

    @classmethod
    def create(cls, config: RecursiveConfig) -> SymbolIndicators:
        return cls(
            config=config,
            emas={p: Ema(p) for p in config.all_ema_periods()},
            rsi=WilderRsi(config.rsi_period),
            macd_signal=Ema(config.macd[2]),
            crossovers=[Crossover() for _ in config.ema_crossovers],
            sma_crossings=[Crossover() for _ in config.sma_crossovers],
        )

    def update(
        self, price: float, smas: Mapping[int, float | None] | None = None
    ) -> list[tuple[str, Values]]:
        self.count += 1
        for ema in self.emas.values():
            ema.update(price)
        out: list[tuple[str, Values]] = []
        config = self.config
        if self.count >= min(config.ema_periods):
            out.append(("ema", {f"ema_{p}": self.emas[p].reported for p in config.ema_periods}))
        value = self.rsi.update(price)
        if value is not None:
            out.append(("rsi", {f"rsi_{config.rsi_period}": value}))
        out.extend(self._macd())
        for (fast, slow), crossover in zip(config.ema_crossovers, self.crossovers, strict=True):
            out.extend(_crossing("ema", fast, slow, crossover, self.emas[fast].reported,
                                 self.emas[slow].reported))  # fmt: skip
        smas = smas or {}
        for (fast, slow), crossover in zip(config.sma_crossovers, self.sma_crossings, strict=True):
            out.extend(_crossing("sma", fast, slow, crossover, smas.get(fast), smas.get(slow)))
        return out

    def _macd(self) -> Sequence[tuple[str, Values]]:
        fast, slow, signal_period = self.config.macd
        fast_value, slow_value = self.emas[fast].value, self.emas[slow].value
        assert fast_value is not None  # updated with this bar's price already
        assert slow_value is not None
        macd = fast_value - slow_value
        signal = self.macd_signal.update(macd)
        if self.count < slow:
            return ()
        if self.count < slow + signal_period - 1:
            return (("macd", {"macd": macd, "signal": None, "histogram": None}),)
        return (("macd", {"macd": macd, "signal": signal, "histogram": macd - signal}),)


def _crossing(
    kind: str,
    fast: int,
    slow: int,
    crossover: Crossover,
    fast_value: float | None,
    slow_value: float | None,
) -> Sequence[tuple[str, Values]]:
    flip = crossover.update(fast_value, slow_value)
    if flip is None:
        return ()
    values: Values = {
        "signal": float(flip[0]),
        "cross": float(flip[1]),
        "fast": fast_value,
        "slow": slow_value,
    }
    return ((crossover_name(kind, fast, slow), values),)
