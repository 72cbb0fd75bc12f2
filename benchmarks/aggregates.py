"""The ripples metrics as plain Python state, for the benchmarks' non-Flink implementations.

Stdlib only (plus the data contract's names), so the peers (``benchmarks/peers``), which run in
a virtualenv of their own without the project's dependencies, import it too. Semantics as in
``jobs/ripples``' docstring: bars keyed by their window end, the 5-minute window ``[t - 5 min,
t]`` over millisecond event times (every trade of the same millisecond included), sample (n - 1)
deviations, and the latest quote at or before each trade's millisecond. Each class assumes its
symbol's events arrive in event-time order, as on the pre-filled topics.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Protocol

from streamlines.contracts.time import NS_PER_MILLISECOND

WINDOW_MS = 5 * 60 * 1000

Values = dict[str, float | None]


def record(symbol: str, metric: str, t_ns: int, values: Values) -> dict[str, Any]:
    """One output record, in the shape the ripples job writes."""
    return {"symbol": symbol, "metric": metric, "t_ns": t_ns, "values": values}


def bar_values(
    open_: float, high: float, low: float, close: float, volume: float, pv: float, count: int
) -> Values:
    return {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume,
        "vwap": pv / volume if volume else None,
        "count": float(count),
    }


def spread_values(bid: float | None, ask: float | None) -> Values:
    if bid is None or ask is None:
        return {"bid": None, "ask": None, "spread": None, "mid": None}
    return {"bid": bid, "ask": ask, "spread": ask - bid, "mid": (bid + ask) / 2}


def sample_std(total: float, squares: float, n: int) -> float | None:
    """Sample standard deviation from running sums (None with fewer than two values)."""
    if n < 2:
        return None
    return math.sqrt(max((squares - total * total / n) / (n - 1), 0.0))


class Bar:
    """An OHLCV bar being built (trades come in time order)."""

    __slots__ = ("bucket", "close", "count", "high", "low", "open", "pv", "volume")

    def __init__(self, bucket: int, price: float, size: float) -> None:
        self.bucket = bucket
        self.open = self.high = self.low = self.close = price
        self.volume = size
        self.pv = price * size
        self.count = 1

    def add(self, price: float, size: float) -> None:
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        self.volume += size
        self.pv += price * size
        self.count += 1

    def values(self) -> Values:
        return bar_values(
            self.open, self.high, self.low, self.close, self.volume, self.pv, self.count
        )


class Entries(Protocol):
    """Where a Rolling keeps its window's entries, by sequence number: a dict, or a wrapper
    around a tool's key-value state."""

    def __getitem__(self, index: int) -> list[Any]: ...
    def __setitem__(self, index: int, entry: list[Any]) -> None: ...
    def __delitem__(self, index: int) -> None: ...


class Rolling:
    """One symbol's 5-minute rolling statistics as running sums: each trade enters the sums and
    leaves them when the window moves past it. Entries ``[ms, price - anchor, log return]`` live
    in ``entries`` under sequence numbers ``head`` .. ``tail - 1``; the scalar state is
    ``snapshot()`` (a small dict, for tools that store state per key). Trades of the current
    millisecond wait in ``pending`` until it is complete, because each one's window includes
    all of them."""

    FIELDS = (
        "anchor", "prev", "s_p", "s_p2", "n_p", "s_r", "s_r2", "n_r", "head", "tail",
        "pending_ms", "pending",
    )  # fmt: skip

    def __init__(self, entries: Entries, saved: dict[str, Any] | None = None) -> None:
        self.entries = entries
        self.anchor: float | None = None  # deviations are summed around the first price
        self.prev: float | None = None
        self.s_p = self.s_p2 = self.s_r = self.s_r2 = 0.0
        self.n_p = self.n_r = self.head = self.tail = 0
        self.pending_ms = -1
        self.pending: list[int] = []  # t_ns of the current millisecond's trades
        if saved:
            for name in self.FIELDS:
                setattr(self, name, saved[name])

    def snapshot(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def add(self, t_ns: int, price: float) -> list[tuple[int, Values]]:
        """Take a trade; returns the (t_ns, values) of the millisecond it completes, if any."""
        ms = t_ns // NS_PER_MILLISECOND
        out: list[tuple[int, Values]] = []
        if ms != self.pending_ms:
            out = self.finish()
            self.pending_ms = ms
            self._evict(ms - WINDOW_MS)
        if self.anchor is None:
            self.anchor = price
        ret = math.log(price / self.prev) if self.prev else None
        self.prev = price
        dp = price - self.anchor
        self.entries[self.tail] = [ms, dp, ret]
        self.tail += 1
        self.s_p += dp
        self.s_p2 += dp * dp
        self.n_p += 1
        if ret is not None:
            self.s_r += ret
            self.s_r2 += ret * ret
            self.n_r += 1
        self.pending.append(t_ns)
        return out

    def _evict(self, oldest_ms: int) -> None:
        entries = self.entries
        while self.head < self.tail:
            ms, dp, ret = entries[self.head]
            if ms >= oldest_ms:
                return
            del entries[self.head]
            self.head += 1
            self.s_p -= dp
            self.s_p2 -= dp * dp
            self.n_p -= 1
            if ret is not None:
                self.s_r -= ret
                self.s_r2 -= ret * ret
                self.n_r -= 1

    def finish(self) -> list[tuple[int, Values]]:
        """The pending millisecond's records (at the end of input, or when it is complete)."""
        if not self.pending or self.anchor is None:
            return []
        n_p, n_r = self.n_p, self.n_r
        values: Values = {
            "price_mean": self.anchor + self.s_p / n_p,
            "price_std": sample_std(self.s_p, self.s_p2, n_p),
            "price_count": float(n_p),
            "ret_mean": self.s_r / n_r if n_r else None,
            "ret_std": sample_std(self.s_r, self.s_r2, n_r),
            "ret_count": float(n_r),
        }
        out = [(t_ns, values) for t_ns in self.pending]
        self.pending = []
        return out


class AsOf:
    """One symbol's event-time as-of join of trades with quotes that may arrive in any
    interleaving (each stream in its own time order): a trade waits until a quote of a later
    millisecond has arrived (or the input ended), then takes the latest quote at or before its
    millisecond (the last one to arrive, if several share it), as the job's temporal join."""

    def __init__(self, saved: dict[str, Any] | None = None) -> None:
        self.quotes: deque[tuple[int, float, float]] = deque()  # (ms, bid, ask) not yet used
        self.trades: deque[tuple[int, int]] = deque()  # (ms, t_ns) waiting
        self.quote_ms = -1  # the latest quote's millisecond
        self.bid: float | None = None  # the quote in effect for the trades resolved so far
        self.ask: float | None = None
        if saved:
            self.quotes = deque(tuple(q) for q in saved["quotes"])
            self.trades = deque(tuple(t) for t in saved["trades"])
            self.quote_ms, self.bid, self.ask = saved["quote_ms"], saved["bid"], saved["ask"]

    def snapshot(self) -> dict[str, Any]:
        """The state as a small dict (the quotes and trades still waiting: few, when the two
        streams are read in step), for tools that store state per key."""
        return {
            "quotes": list(self.quotes),
            "trades": list(self.trades),
            "quote_ms": self.quote_ms,
            "bid": self.bid,
            "ask": self.ask,
        }

    def quote(self, t_ns: int, bid: float, ask: float) -> list[tuple[int, Values]]:
        ms = t_ns // NS_PER_MILLISECOND
        self.quotes.append((ms, bid, ask))
        self.quote_ms = ms
        return self._resolve(final=False)

    def trade(self, t_ns: int) -> list[tuple[int, Values]]:
        self.trades.append((t_ns // NS_PER_MILLISECOND, t_ns))
        return self._resolve(final=False)

    def finish(self) -> list[tuple[int, Values]]:
        return self._resolve(final=True)

    def _resolve(self, final: bool) -> list[tuple[int, Values]]:
        out = []
        trades, quotes = self.trades, self.quotes
        while trades and (final or trades[0][0] < self.quote_ms):
            ms, t_ns = trades.popleft()
            while quotes and quotes[0][0] <= ms:
                _, self.bid, self.ask = quotes.popleft()
            out.append((t_ns, spread_values(self.bid, self.ask)))
        return out
