"""One symbol's market data: its real bars, and the trades and quotes generated inside them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.replay import synth as synth_module
from connectors.replay.aggregate import Bars, bars_from_trades, resample_bars
from connectors.replay.barstats import BarStats, BarStatsStore, code_digest, fingerprint
from connectors.replay.synth import (
    BarSpec,
    Quotes,
    Trades,
    bar_rng,
    generate_quotes,
    generate_trades,
    trade_count,
)
from connectors.replay.timeframe import AlpacaTimeframe

NEW_YORK = "America/New_York"
_CACHED_BARS = 256


@dataclass(frozen=True)
class SynthConfig:
    seed: int = 7
    trades_per_minute: float = 2.0
    max_trades_per_bar: int = 5_000


def price_tick(prices: np.ndarray) -> float:
    """The coarsest decimal tick (1e-2 ... 1e-6) every source price sits on."""
    for decimals in range(2, 7):
        scaled = prices * 10**decimals
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return float(10.0**-decimals)
    return 1e-6


def trading_windows(
    labels: pd.DatetimeIndex, frequency: AlpacaTimeframe, asset_class: str
) -> tuple[np.ndarray, np.ndarray]:
    """When each bar's trades happen: the New York regular session for daily stock bars,
    otherwise the bar's own period."""
    if frequency.unit == "Day" and asset_class == "stock":
        days = labels.tz_convert(None).normalize()
        opens = (days + pd.Timedelta(hours=9, minutes=30)).tz_localize(NEW_YORK)
        closes = (days + pd.Timedelta(hours=16)).tz_localize(NEW_YORK)
        return _ns(opens), _ns(closes)
    if frequency.unit == "Month":
        starts = labels.tz_convert(None).to_period("M").to_timestamp().tz_localize("UTC")
        return _ns(starts), _ns(starts + pd.DateOffset(months=frequency.amount))
    length = frequency.fixed_ns()
    assert length is not None
    start = _ns(labels)
    return start, start + length


def _ns(index: pd.DatetimeIndex) -> np.ndarray:
    return index.tz_convert("UTC").as_unit("ns").asi8.copy()


@cache
def _stats_code() -> bytes:
    """The code that decides a bar's trade count and VWAP: trade generation and this module."""
    return code_digest(Path(synth_module.__file__), Path(__file__))


class SymbolFeed:
    """Real bars of one symbol; trades and quotes generated from each bar on demand (cached)."""

    def __init__(
        self,
        symbol: str,
        asset_class: str,
        bars: pd.DataFrame,
        frequency: AlpacaTimeframe,
        synth: SynthConfig,
        description: str,
    ) -> None:
        self.symbol = symbol
        self.asset_class = asset_class
        self.frequency = frequency
        self.description = description
        self.synth = synth
        labels = pd.DatetimeIndex(bars.index)
        self.window_start, self.window_end = trading_windows(labels, frequency, asset_class)
        if frequency.unit == "Month":
            labels = pd.DatetimeIndex(self.window_start).tz_localize("UTC")
        self.t = _ns(labels)
        self.open = bars["open"].to_numpy(np.float64)
        self.high = bars["high"].to_numpy(np.float64)
        self.low = bars["low"].to_numpy(np.float64)
        self.close = bars["close"].to_numpy(np.float64)
        self.volume = bars["volume"].to_numpy(np.float64)
        self.adj_factor = (
            bars["adj_close"].to_numpy(np.float64) / self.close if "adj_close" in bars else None
        )
        self.integral_volume = bool(np.all(self.volume == np.round(self.volume)))
        self.tick = price_tick(np.concatenate([self.open, self.high, self.low, self.close]))
        self._counts = np.full(len(self.t), -1, np.int64)
        self._vwap = np.zeros(len(self.t))
        self._trades: OrderedDict[int, Trades] = OrderedDict()
        self._quotes: OrderedDict[int, Quotes] = OrderedDict()
        self._stats_store: BarStatsStore | None = None
        self._stats_key = ""

    def __len__(self) -> int:
        return len(self.t)

    @property
    def first_ns(self) -> int:
        return int(self.window_start[0]) if len(self) else 0

    def stats_fingerprint(self) -> str | None:
        """A digest of everything that decides the bars' trade counts and VWAPs (None: they
        are not kept on disk)."""
        return fingerprint(
            [
                _stats_code(),
                self.symbol,
                self.asset_class,
                str(self.frequency),
                repr(self.synth),
                repr(self.tick),
                repr(self.integral_volume),
                self.window_start,
                self.window_end,
                self.open,
                self.high,
                self.low,
                self.close,
                self.volume,
            ]
        )

    def keep_stats_in(self, store: BarStatsStore) -> None:
        """Take the trade counts and VWAPs an earlier server stored, and store new ones there."""
        key = self.stats_fingerprint()
        if key is None:
            return
        self._stats_store, self._stats_key = store, key
        stats = store.load(key, len(self))
        if stats is not None:
            known = stats.counts >= 0
            self._counts[known] = stats.counts[known]
            self._vwap[known] = stats.vwap[known]

    def _spec(self, i: int) -> BarSpec:
        return BarSpec(
            float(self.open[i]),
            float(self.high[i]),
            float(self.low[i]),
            float(self.close[i]),
            float(self.volume[i]),
            int(self.window_start[i]),
            int(self.window_end[i]),
        )

    def _make_trades(self, i: int) -> Trades:
        spec = self._spec(i)
        n = trade_count(
            spec, self.synth.trades_per_minute, self.synth.max_trades_per_bar, self.integral_volume
        )
        rng = bar_rng(self.synth.seed, self.symbol, i)
        first_id = (i + 1) * 1_000_000
        return generate_trades(
            spec, n, rng, tick=self.tick, integral_volume=self.integral_volume, first_id=first_id
        )

    def trades_for_bar(self, i: int) -> Trades:
        cached = self._trades.get(i)
        if cached is not None:
            self._trades.move_to_end(i)
            return cached
        trades = self._make_trades(i)
        self._trades[i] = trades
        if len(self._trades) > _CACHED_BARS:
            self._trades.popitem(last=False)
        if self._counts[i] < 0:
            self._counts[i] = len(trades)
            if len(trades):
                self._vwap[i] = round(
                    float(np.dot(trades.price, trades.size) / trades.size.sum()), 10
                )
        return trades

    def quotes_for_bar(self, i: int) -> Quotes:
        cached = self._quotes.get(i)
        if cached is not None:
            self._quotes.move_to_end(i)
            return cached
        rng = bar_rng(self.synth.seed + 1, self.symbol, i)
        quotes = generate_quotes(
            self.trades_for_bar(i),
            self._spec(i),
            rng,
            tick=self.tick,
            integral_volume=self.integral_volume,
        )
        self._quotes[i] = quotes
        if len(self._quotes) > _CACHED_BARS:
            self._quotes.popitem(last=False)
        return quotes

    def bars_overlapping(self, t0: int, t1: int) -> range:
        """Indices of bars whose trading window intersects [t0, t1)."""
        lo = int(np.searchsorted(self.window_end, t0, side="right"))
        hi = int(np.searchsorted(self.window_start, t1, side="left"))
        return range(lo, max(lo, hi))

    def trades_between(self, t0: int, t1: int) -> Trades:
        parts = []
        for i in self.bars_overlapping(t0, t1):
            trades = self.trades_for_bar(i)
            a, b = np.searchsorted(trades.t, [t0, t1], side="left")
            if b > a:
                parts.append(trades.slice(int(a), int(b)))
        return Trades.concat(parts)

    def quotes_between(self, t0: int, t1: int) -> list[Quotes]:
        parts = []
        for i in self.bars_overlapping(t0, t1):
            quotes = self.quotes_for_bar(i)
            a, b = np.searchsorted(quotes.t, [t0, t1], side="left")
            if b > a:
                parts.append(quotes.slice(int(a), int(b)))
        return parts

    def next_trade_time(self, after: int) -> int | None:
        """The first trade at or after ``after`` (ns), or None when the data has ended."""
        for i in range(int(np.searchsorted(self.window_end, after, side="right")), len(self)):
            trades = self.trades_for_bar(i)
            k = int(np.searchsorted(trades.t, after, side="left"))
            if k < len(trades):
                return int(trades.t[k])
        return None

    def bar_index_at(self, t: int) -> int | None:
        """The bar whose trading window contains ``t``."""
        i = int(np.searchsorted(self.window_start, t, side="right")) - 1
        return i if i >= 0 and t < self.window_end[i] else None

    def _source_bars(self, lo: int, hi: int, adjusted: bool) -> Bars:
        missing = np.flatnonzero(self._counts[lo:hi] < 0) + lo
        for i in missing.tolist():
            self.trades_for_bar(i)
        if len(missing) and self._stats_store is not None:
            self._stats_store.save(self._stats_key, BarStats(self._counts, self._vwap))
        factor = self._factor(lo, hi, adjusted)
        return Bars(
            self.t[lo:hi],
            self.open[lo:hi] * factor,
            self.high[lo:hi] * factor,
            self.low[lo:hi] * factor,
            self.close[lo:hi] * factor,
            self.volume[lo:hi],
            self._counts[lo:hi].copy(),
            self._vwap[lo:hi] * factor,
        )

    def _factor(self, lo: int, hi: int, adjusted: bool) -> np.ndarray | float:
        if adjusted and self.adj_factor is not None:
            return self.adj_factor[lo:hi]
        return 1.0

    def iter_bars(
        self, timeframe: AlpacaTimeframe, t0: int, t1: int, *, adjusted: bool = False
    ) -> Iterator[Bars]:
        """Bars with ``t0 <= t <= t1`` in ascending time, in chunks.

        The source timeframe is served as it is; coarser ones are aggregated from the source
        bars and finer ones from the generated trades (one chunk per source bar)."""
        if timeframe == self.frequency:
            lo = int(np.searchsorted(self.t, t0, side="left"))
            hi = int(np.searchsorted(self.t, t1, side="right"))
            yield self._source_bars(lo, hi, adjusted)
            return
        if timeframe.rank() > self.frequency.rank():
            first_bucket = int(timeframe.bucket_starts(np.array([t0], np.int64))[0])
            lo = int(np.searchsorted(self.t, first_bucket, side="left"))
            hi = int(np.searchsorted(self.t, t1, side="right"))
            bars = resample_bars(self._source_bars(lo, hi, adjusted), timeframe)
            yield bars.take((bars.t >= t0) & (bars.t <= t1))
            return
        # A bucket may straddle two source bars (e.g. 7Min buckets across an hour): the last bar
        # of each chunk waits for the next chunk and merges with it when their buckets match.
        pending: Bars | None = None
        for i in self.bars_overlapping(t0, t1 + 1):
            bars = bars_from_trades(self.trades_for_bar(i), timeframe)
            if adjusted and self.adj_factor is not None:
                bars = bars.scaled(float(self.adj_factor[i]))
            if pending is not None:
                bars = resample_bars(Bars.concat([pending, bars]), timeframe)
            if len(bars) == 0:
                continue
            pending = bars.slice(len(bars) - 1, len(bars))
            done = bars.slice(0, len(bars) - 1)
            yield done.take((done.t >= t0) & (done.t <= t1))
        if pending is not None:
            yield pending.take((pending.t >= t0) & (pending.t <= t1))
