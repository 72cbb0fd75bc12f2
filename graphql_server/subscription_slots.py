"""Open subscriptions per client, across the whole server: at most ``limit`` each.

Used from the event loop only (no lock). A slot is taken when a subscription starts and given
back when it ends however it ends (completed, stopped by the client, failed, or its connection
dropped): ``graphql_server.limits`` does both around the subscription's operation.
"""

from __future__ import annotations

from collections import Counter


class SubscriptionSlots:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def acquire(self, client: str) -> bool:
        """Take one of ``client``'s slots; False when all ``limit`` are taken."""
        if self._open[client] >= self.limit:
            return False
        self._open[client] += 1
        return True

    def release(self, client: str) -> None:
        self._open[client] -= 1
        if self._open[client] <= 0:
            del self._open[client]

    def open(self, client: str) -> int:
        """How many subscriptions ``client`` has open."""
        return self._open.get(client, 0)

    @property
    def total(self) -> int:
        return sum(self._open.values())
