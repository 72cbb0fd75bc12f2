"""The replay loop for one connection: walks replay time minute by minute and yields batches of
messages for what the connection subscribes to, paced by a replay clock (or unpaced)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from connectors.replay import protocol
from connectors.replay.aggregate import Bars, bars_from_trades
from connectors.replay.clock import ReplayClock
from connectors.replay.feed import SymbolFeed
from connectors.replay.protocol import Message
from connectors.replay.subscriptions import Subscriptions
from connectors.replay.timeframe import AlpacaTimeframe
from connectors.replay.universe import Universe
from streamlines.contracts.time import NS_PER_DAY, NS_PER_MINUTE

MAX_BATCH = 1_000
# Longest single sleep while waiting for the clock: another connection may move it on.
MAX_SLEEP_S = 0.5
STEP_WITHOUT_BARS_NS = 15 * NS_PER_MINUTE
_ONE_MINUTE = AlpacaTimeframe(1, "Min")
_ONE_DAY = AlpacaTimeframe(1, "Day")


class SlowClientError(Exception):
    """The client reads so slowly that the paced replay fell too far behind."""


@dataclass
class Batch:
    messages: list[Message]
    # Per message, the replay position after it has been delivered (for resuming).
    positions: list[int]


class ReplayEngine:
    def __init__(
        self,
        universe: Universe,
        asset_class: str,
        subscriptions: Subscriptions,
        start_ns: int,
        clock: ReplayClock | None,
        slow_client_seconds: float = 30.0,
    ) -> None:
        """``clock`` paces the replay (shared with every other connection that streams now,
        see connectors.replay.clock); None sends as fast as the client reads."""
        self.universe = universe
        self.stock = asset_class == "stock"
        self.symbols = universe.symbols(asset_class)
        self.subs = subscriptions
        self.position = start_ns
        self.clock = clock
        self._token = clock.join() if clock else 0
        self.slow_client_ns = int(slow_client_seconds * 1e9)
        self._books_started: set[str] = set()

    def close(self) -> None:
        """The connection stopped streaming: it no longer holds the shared clock back."""
        if self.clock:
            self.clock.leave(self._token)

    def _feeds(self) -> list[SymbolFeed]:
        feeds = [self.universe.feeds[s] for s in self.subs.streamed_symbols(self.symbols)]
        return [f for f in feeds if f is not None]

    async def batches(self) -> AsyncIterator[Batch]:
        while True:
            feeds = self._feeds()
            upcoming = [t for f in feeds if (t := f.next_trade_time(self.position)) is not None]
            if not upcoming:
                # Nothing (more) to replay for this subscription: wait until it changes.
                if self.clock:
                    self.clock.next_event(self._token, None)
                self.subs.changed.clear()
                await self.subs.changed.wait()
                continue
            next_t = min(upcoming)
            # One minute per step when bars are wanted (each is sent right after its minute);
            # otherwise longer steps, which cost far less per message.
            step = NS_PER_MINUTE if self._wants_bars(feeds) else STEP_WITHOUT_BARS_NS
            step_end = next_t // step * step + step
            if self.clock:
                self.clock.next_event(self._token, next_t)
            events = self._events(feeds, self.position, step_end)
            async for batch in self._paced(events):
                yield batch
            if self.clock:
                while (wait := self.clock.wall_seconds_until(step_end)) > 0:
                    await asyncio.sleep(min(wait, MAX_SLEEP_S))
            bars = self._minute_bars(feeds, step_end - NS_PER_MINUTE, step_end)
            self.position = step_end
            for start in range(0, len(bars), MAX_BATCH):
                chunk = bars[start : start + MAX_BATCH]
                yield Batch(chunk, [step_end] * len(chunk))
            await asyncio.sleep(0)

    def _wants_bars(self, feeds: list[SymbolFeed]) -> bool:
        return any(
            self.subs.wants("bars", f.symbol) or self.subs.wants("dailyBars", f.symbol)
            for f in feeds
        )

    async def _paced(self, events: tuple[np.ndarray, list[Message]]) -> AsyncIterator[Batch]:
        times, messages = events
        i = 0
        while i < len(messages):
            stop = min(i + MAX_BATCH, len(messages))
            if self.clock:
                now = self.clock.now()
                if now - times[i] > self.slow_client_ns * self.clock.speed:
                    raise SlowClientError
                due = int(np.searchsorted(times, now, side="right"))
                if due <= i:
                    self.clock.next_event(self._token, int(times[i]))
                    await asyncio.sleep(
                        min(self.clock.wall_seconds_until(int(times[i])), MAX_SLEEP_S)
                    )
                    continue
                stop = min(stop, due)
            positions = [int(t) + 1 for t in times[i:stop]]
            yield Batch(messages[i:stop], positions)
            i = stop

    def _events(
        self, feeds: list[SymbolFeed], t0: int, t1: int
    ) -> tuple[np.ndarray, list[Message]]:
        times: list[int] = []
        messages: list[Message] = []
        for feed in feeds:
            symbol = feed.symbol
            if self.subs.wants("statuses", symbol) or self.subs.wants("lulds", symbol):
                self._session_open(feed, t0, t1, times, messages)
            if self.subs.wants("trades", symbol):
                trades = feed.trades_between(t0, t1)
                times.extend(trades.t.tolist())
                for t, i, p, s in zip(
                    trades.t.tolist(),
                    trades.id.tolist(),
                    trades.price.tolist(),
                    trades.size.tolist(),
                    strict=True,
                ):
                    messages.append(protocol.trade(symbol, t, i, p, s, stock=self.stock))
            want_quotes = self.subs.wants("quotes", symbol)
            want_books = not self.stock and self.subs.wants("orderbooks", symbol)
            if want_quotes or want_books:
                for quotes in feed.quotes_between(t0, t1):
                    rows = zip(
                        quotes.t.tolist(),
                        quotes.bid_price.tolist(),
                        quotes.bid_size.tolist(),
                        quotes.ask_price.tolist(),
                        quotes.ask_size.tolist(),
                        strict=True,
                    )
                    for t, bp, bs, ap, as_ in rows:
                        if want_quotes:
                            times.append(t)
                            messages.append(
                                protocol.quote(symbol, t, bp, bs, ap, as_, stock=self.stock)
                            )
                        if want_books:
                            times.append(t)
                            reset = symbol not in self._books_started
                            self._books_started.add(symbol)
                            messages.append(
                                protocol.orderbook(symbol, t, (bp, bs), (ap, as_), reset=reset)
                            )
        order = np.argsort(np.asarray(times, dtype=np.int64), kind="stable")
        return np.asarray(times, dtype=np.int64)[order], [messages[k] for k in order]

    def _session_open(
        self, feed: SymbolFeed, t0: int, t1: int, times: list[int], messages: list[Message]
    ) -> None:
        """A trading status and LULD band when a bar's first trade falls in [t0, t1)."""
        for i in feed.bars_overlapping(t0, t1):
            trades = feed.trades_for_bar(i)
            if len(trades) and t0 <= trades.t[0] < t1:
                t = int(trades.t[0]) - 1
                if self.subs.wants("statuses", feed.symbol) and self.stock:
                    times.append(t)
                    messages.append(protocol.trading_status(feed.symbol, t))
                if self.subs.wants("lulds", feed.symbol) and self.stock:
                    times.append(t)
                    messages.append(protocol.luld(feed.symbol, t, float(feed.open[i])))

    def _minute_bars(self, feeds: list[SymbolFeed], t0: int, t1: int) -> list[Message]:
        """Bars for the minute [t0, t1) from exactly its trades; daily bars so far."""
        messages: list[Message] = []
        for feed in feeds:
            want_bar = self.subs.wants("bars", feed.symbol)
            want_daily = self.subs.wants("dailyBars", feed.symbol)
            if not (want_bar or want_daily):
                continue
            trades = feed.trades_between(t0, t1)
            if len(trades) == 0:
                continue
            if want_bar:
                messages.append(self._bar_message("b", feed, bars_from_trades(trades, _ONE_MINUTE)))
            if want_daily:
                day_start = t0 // NS_PER_DAY * NS_PER_DAY
                so_far = bars_from_trades(feed.trades_between(day_start, t1), _ONE_DAY)
                messages.append(self._bar_message("d", feed, so_far))
        return messages

    @staticmethod
    def _bar_message(kind: str, feed: SymbolFeed, bars: Bars) -> Message:
        return protocol.bar(
            kind,
            feed.symbol,
            int(bars.t[0]),
            (float(bars.open[0]), float(bars.high[0]), float(bars.low[0]), float(bars.close[0])),
            float(bars.volume[0]),
            int(bars.trade_count[0]),
            float(bars.vwap[0]),
            integral_volume=feed.integral_volume,
        )
