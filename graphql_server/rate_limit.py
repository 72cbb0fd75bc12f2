"""Requests per minute per client: a token bucket each, of ``per_minute`` tokens, refilled evenly
(one token every 60 / ``per_minute`` seconds), so a client may burst up to the whole minute's
worth and then goes at the refill rate.

Used from the event loop only (no lock). Buckets that have refilled to full are forgotten when
there are many, since a new bucket starts full too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

# Buckets kept before the full ones are dropped (one per key prefix or client address).
PRUNE_AT = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client: str) -> float:
        """Take a token of ``client``'s bucket: 0.0 when there was one, else the seconds until
        there will be (nothing is taken then)."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            self._prune(now)
            bucket = self._buckets[client] = _Bucket(float(self.per_minute), now)
        bucket.tokens = self._level(bucket, now)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate if self._rate > 0 else float("inf")

    def _level(self, bucket: _Bucket, now: float) -> float:
        return min(float(self.per_minute), bucket.tokens + (now - bucket.updated) * self._rate)

    def _prune(self, now: float) -> None:
        if len(self._buckets) >= PRUNE_AT:
            self._buckets = {
                client: bucket
                for client, bucket in self._buckets.items()
                if self._level(bucket, now) < self.per_minute
            }

    def __len__(self) -> int:
        return len(self._buckets)
