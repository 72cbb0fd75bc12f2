"""Intraday trades and quotes generated from one real bar: seeded, reproducible, checkable.

For a bar (open, high, low, close, volume) over a time window, the trades:
- have strictly increasing nanosecond timestamps inside the window;
- start at ``open``, end at ``close``, touch ``high`` and ``low`` exactly and never leave them;
- have sizes that sum to the bar's volume (exactly for integral volumes).
So the bar aggregated back from its trades equals the real bar.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from streamlines.contracts.time import NS_PER_MINUTE


@dataclass(frozen=True)
class Trades:
    t: np.ndarray  # int64 nanoseconds since the epoch, strictly increasing
    price: np.ndarray  # float64
    size: np.ndarray  # float64 (integral for stocks)
    id: np.ndarray  # int64, unique per symbol

    def __len__(self) -> int:
        return len(self.t)

    def slice(self, start: int, stop: int) -> Trades:
        return Trades(
            self.t[start:stop], self.price[start:stop], self.size[start:stop], self.id[start:stop]
        )

    @staticmethod
    def empty() -> Trades:
        return Trades(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0, np.int64))

    @staticmethod
    def concat(parts: list[Trades]) -> Trades:
        if not parts:
            return Trades.empty()
        if len(parts) == 1:
            return parts[0]
        return Trades(
            np.concatenate([p.t for p in parts]),
            np.concatenate([p.price for p in parts]),
            np.concatenate([p.size for p in parts]),
            np.concatenate([p.id for p in parts]),
        )


@dataclass(frozen=True)
class Quotes:
    t: np.ndarray
    bid_price: np.ndarray
    bid_size: np.ndarray
    ask_price: np.ndarray
    ask_size: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    def slice(self, start: int, stop: int) -> Quotes:
        return Quotes(
            self.t[start:stop],
            self.bid_price[start:stop],
            self.bid_size[start:stop],
            self.ask_price[start:stop],
            self.ask_size[start:stop],
        )


@dataclass(frozen=True)
class BarSpec:
    open: float
    high: float
    low: float
    close: float
    volume: float
    start_ns: int
    end_ns: int


def bar_rng(seed: int, symbol: str, bar_ordinal: int) -> np.random.Generator:
    """The random stream for one bar of one symbol: independent of which bars were asked first."""
    return np.random.default_rng([seed, zlib.crc32(symbol.encode()), bar_ordinal])


def trade_count(bar: BarSpec, trades_per_minute: float, max_trades: int, integral: bool) -> int:
    if bar.volume <= 0 or bar.end_ns <= bar.start_ns:
        return 0
    minutes = (bar.end_ns - bar.start_ns) / NS_PER_MINUTE
    wanted = min(max(round(minutes * trades_per_minute), 4), max_trades)
    if integral:
        wanted = min(wanted, int(bar.volume))
    return max(wanted, 1)


def _timestamps(rng: np.random.Generator, start_ns: int, end_ns: int, n: int) -> np.ndarray:
    span = end_ns - start_ns - n
    offsets = np.sort((rng.random(n) * max(span, 1)).astype(np.int64))
    # Adding 0, 1, 2, ... ns turns ties into strictly increasing times, still inside the window.
    return start_ns + offsets + np.arange(n, dtype=np.int64)


def _prices(rng: np.random.Generator, bar: BarSpec, n: int, tick: float) -> np.ndarray:
    if n == 1:
        return np.array([bar.close])
    if n < 4:
        return np.array([bar.open, *([bar.high, bar.low][: n - 2]), bar.close])
    i_high, i_low = rng.choice(np.arange(1, n - 1), size=2, replace=False)
    anchors = sorted([(0, bar.open), (i_high, bar.high), (i_low, bar.low), (n - 1, bar.close)])
    idx = np.array([a[0] for a in anchors])
    values = np.array([a[1] for a in anchors])
    positions = np.arange(n)
    base = np.interp(positions, idx, values)
    walk = np.cumsum(rng.normal(0.0, 1.0, n))
    # Pin the walk to zero at every anchor (a Brownian bridge between anchors).
    walk -= np.interp(positions, idx, walk[idx])
    scale = (bar.high - bar.low) * 0.6 / np.sqrt(n)
    prices = np.clip(base + walk * scale, bar.low, bar.high)
    prices = np.clip(np.round(prices / tick) * tick, bar.low, bar.high)
    prices = np.round(prices, 10)
    prices[idx] = values
    return prices


def _sizes(rng: np.random.Generator, volume: float, n: int, integral: bool) -> np.ndarray:
    weights = rng.exponential(1.0, n)
    weights /= weights.sum()
    if integral:
        total = round(volume)
        return (1 + rng.multinomial(total - n, weights)).astype(np.float64)
    sizes = np.round(weights * volume, 8)
    sizes[-1] = round(volume - float(sizes[:-1].sum()), 8)
    if sizes[-1] <= 0:  # rounding left nothing for the last trade: spread it evenly instead
        sizes = np.full(n, volume / n)
    return sizes


def generate_trades(
    bar: BarSpec,
    n: int,
    rng: np.random.Generator,
    *,
    tick: float,
    integral_volume: bool,
    first_id: int,
) -> Trades:
    if n <= 0:
        return Trades.empty()
    t = _timestamps(rng, bar.start_ns, bar.end_ns, n)
    prices = _prices(rng, bar, n, tick)
    sizes = _sizes(rng, bar.volume, n, integral_volume)
    ids = first_id + np.arange(n, dtype=np.int64)
    return Trades(t, prices, sizes, ids)


def generate_quotes(
    trades: Trades,
    bar: BarSpec,
    rng: np.random.Generator,
    *,
    tick: float,
    integral_volume: bool,
) -> Quotes:
    """One top-of-book quote shortly before each trade, bracketing its price within the bar."""
    n = len(trades)
    previous = np.concatenate([[bar.start_ns - 1], trades.t[:-1]])
    gaps = trades.t - previous
    offsets = np.maximum(1, (rng.random(n) * (gaps - 1) * 0.5).astype(np.int64))
    t = np.maximum(trades.t - offsets, previous + 1)
    half_spread = np.maximum(tick, np.round(trades.price * 0.0002 / tick) * tick)
    bid = np.round(np.maximum(trades.price - half_spread, bar.low), 10)
    ask = np.round(np.minimum(trades.price + half_spread, bar.high), 10)
    if integral_volume:
        bid_size = rng.integers(1, 10, n).astype(np.float64) * 100
        ask_size = rng.integers(1, 10, n).astype(np.float64) * 100
    else:
        bid_size = np.round(rng.random(n) * 2 + 0.001, 6)
        ask_size = np.round(rng.random(n) * 2 + 0.001, 6)
    return Quotes(t, bid, bid_size, ask, ask_size)
