"""The trade ids ingest has seen, so a trade that comes again (a feed's repeat, or a trade a
gap backfill fetched that the stream also sent) is caught. Alpaca's trade id is unique per
symbol and exchange; ids are remembered for ``memory_ns`` of event time behind the newest trade
of the symbol, which bounds the memory. Thread-safe: the streams and the backfill share one."""

from __future__ import annotations

import threading
from collections import deque

from streamlines.contracts.events import Trade

_Key = tuple[str | None, int]  # (exchange, trade id)


class TradeIds:
    def __init__(self, memory_ns: int) -> None:
        self.memory_ns = memory_ns
        self._seen: dict[str, set[_Key]] = {}
        self._order: dict[str, deque[tuple[int, _Key]]] = {}
        self._newest: dict[str, int] = {}
        self._lock = threading.Lock()

    def first_sight(self, trade: Trade) -> bool:
        """True (and remembered) the first time a trade's id comes; False when it is a repeat.
        A trade without an id cannot be told apart: always True."""
        if trade.trade_id is None:
            return True
        key = (trade.exchange, trade.trade_id)
        symbol = trade.symbol
        with self._lock:
            seen = self._seen.setdefault(symbol, set())
            if key in seen:
                return False
            seen.add(key)
            order = self._order.setdefault(symbol, deque())
            order.append((trade.t_ns, key))
            newest = max(self._newest.get(symbol, trade.t_ns), trade.t_ns)
            self._newest[symbol] = newest
            while order and order[0][0] < newest - self.memory_ns:
                seen.discard(order.popleft()[1])
            return True

    def __len__(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._seen.values())
