"""The paced replay timeline: replay time = origin + wall time elapsed x speed.

One clock serves every connection that streams at the same time, stocks and crypto alike, as
live data is one timeline on Alpaca: two connections (two ingest processes, each with half the
symbols, or the stock and the crypto stream of one) see trades of the same moment at the same
wall time, so a consumer that merges them in event time (a Flink watermark) does not find one
connection's trades late.

A gap with nothing to send (nights, weekends) is skipped, but only once no connection on the
clock has anything to send before it: skipping for one connection would otherwise leave another
hours behind, in the middle of its trades.
"""

from __future__ import annotations

import itertools
import time

from streamlines.contracts.time import NS_PER_SECOND

# Gaps with no events longer than this (replay time) are skipped, e.g. nights and weekends.
IDLE_SKIP_NS = 300 * NS_PER_SECOND
# After a skip, the next event comes this long (replay time) after the new origin.
SKIP_LEAD_NS = NS_PER_SECOND


class ReplayClock:
    def __init__(self, speed: float, origin_ns: int) -> None:
        self.speed = speed
        self._tokens = itertools.count()
        # Per member: the replay time of its next event (None: it has nothing to send).
        self._next: dict[int, int | None] = {}
        self._rebase(origin_ns)

    def _rebase(self, replay_ns: int) -> None:
        self._origin_ns = replay_ns
        self._wall = time.monotonic()

    def now(self) -> int:
        return self._origin_ns + int((time.monotonic() - self._wall) * self.speed * 1e9)

    def wall_seconds_until(self, replay_ns: int) -> float:
        return max(0.0, (replay_ns - self.now()) / 1e9 / self.speed)

    @property
    def members(self) -> int:
        return len(self._next)

    def join(self) -> int:
        """A connection starts streaming on this clock; returns its token. Until it says when
        its next event is, it may have one now, which holds skips back."""
        token = next(self._tokens)
        self._next[token] = self.now()
        return token

    def leave(self, token: int) -> None:
        self._next.pop(token, None)
        self._skip_if_all_idle()

    def next_event(self, token: int, replay_ns: int | None) -> None:
        """Member ``token`` sends nothing before ``replay_ns`` (None: nothing at all for now).
        When no member has an event within IDLE_SKIP_NS, the clock jumps to just before the
        earliest one."""
        self._next[token] = replay_ns
        self._skip_if_all_idle()

    def _skip_if_all_idle(self) -> None:
        upcoming = [t for t in self._next.values() if t is not None]
        if upcoming and min(upcoming) - self.now() > IDLE_SKIP_NS:
            self._rebase(min(upcoming) - SKIP_LEAD_NS)
