"""Bars aggregated from trades, and coarser bars aggregated from finer bars."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from connectors.replay.synth import Trades
from connectors.replay.timeframe import AlpacaTimeframe


@dataclass(frozen=True)
class Bars:
    t: np.ndarray  # int64 ns, bucket start
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    trade_count: np.ndarray  # int64
    vwap: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    def slice(self, start: int, stop: int) -> Bars:
        return Bars(*(getattr(self, f)[start:stop] for f in _FIELDS))

    def take(self, mask: np.ndarray) -> Bars:
        return Bars(*(getattr(self, f)[mask] for f in _FIELDS))

    def scaled(self, factor: float) -> Bars:
        """Prices multiplied by ``factor`` (split/dividend adjustment); volumes unchanged."""
        return Bars(
            self.t,
            self.open * factor,
            self.high * factor,
            self.low * factor,
            self.close * factor,
            self.volume,
            self.trade_count,
            self.vwap * factor,
        )

    @staticmethod
    def concat(parts: list[Bars]) -> Bars:
        if not parts:
            return empty_bars()
        return Bars(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


_FIELDS = ("t", "open", "high", "low", "close", "volume", "trade_count", "vwap")


def empty_bars() -> Bars:
    def floats() -> np.ndarray:
        return np.empty(0)

    times, counts = np.empty(0, np.int64), np.empty(0, np.int64)
    return Bars(times, floats(), floats(), floats(), floats(), floats(), counts, floats())


def _group_starts(keys: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.flatnonzero(np.diff(keys)) + 1]).astype(np.int64)


def bars_from_trades(trades: Trades, timeframe: AlpacaTimeframe) -> Bars:
    if len(trades) == 0:
        return empty_bars()
    keys = timeframe.bucket_starts(trades.t)
    starts = _group_starts(keys)
    ends = np.concatenate([starts[1:], [len(keys)]])
    volume = np.add.reduceat(trades.size, starts)
    notional = np.add.reduceat(trades.price * trades.size, starts)
    return Bars(
        t=keys[starts],
        open=trades.price[starts],
        high=np.maximum.reduceat(trades.price, starts),
        low=np.minimum.reduceat(trades.price, starts),
        close=trades.price[ends - 1],
        volume=volume,
        trade_count=(ends - starts).astype(np.int64),
        vwap=np.round(notional / volume, 10),
    )


def resample_bars(bars: Bars, timeframe: AlpacaTimeframe) -> Bars:
    if len(bars) == 0:
        return bars
    keys = timeframe.bucket_starts(bars.t)
    starts = _group_starts(keys)
    ends = np.concatenate([starts[1:], [len(keys)]])
    volume = np.add.reduceat(bars.volume, starts)
    notional = np.add.reduceat(bars.vwap * bars.volume, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(volume > 0, np.round(notional / np.where(volume > 0, volume, 1), 10), 0.0)
    return Bars(
        t=keys[starts],
        open=bars.open[starts],
        high=np.maximum.reduceat(bars.high, starts),
        low=np.minimum.reduceat(bars.low, starts),
        close=bars.close[ends - 1],
        volume=volume,
        trade_count=np.add.reduceat(bars.trade_count, starts),
        vwap=vwap,
    )
