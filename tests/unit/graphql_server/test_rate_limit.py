"""The token buckets, on a clock the tests move."""

from __future__ import annotations

import pytest

from graphql_server import rate_limit
from graphql_server.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_may_burst_a_minute_of_requests_then_waits_for_the_refill():
    clock = Clock()
    limiter = RateLimiter(60, clock)  # a token a second
    assert [limiter.take("a") for _ in range(60)] == [0.0] * 60
    assert limiter.take("a") == pytest.approx(1.0)
    clock.now += 0.25
    assert limiter.take("a") == pytest.approx(0.75)  # a refused request takes nothing
    clock.now += 0.75
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(1.0)


def test_the_refill_is_even_and_stops_at_a_full_bucket():
    clock = Clock()
    limiter = RateLimiter(600, clock)  # ten tokens a second
    for _ in range(600):
        limiter.take("a")
    clock.now += 0.5
    assert [limiter.take("a") for _ in range(5)] == [0.0] * 5
    assert limiter.take("a") == pytest.approx(0.1)
    clock.now += 3600  # an hour idle: a full bucket, not six hours' worth
    assert sum(limiter.take("a") == 0.0 for _ in range(700)) == 600


def test_clients_have_buckets_of_their_own():
    limiter = RateLimiter(2, Clock())
    assert [limiter.take("a"), limiter.take("a"), limiter.take("b")] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(30.0)
    assert limiter.take("b") == 0.0


def test_full_buckets_are_forgotten_when_there_are_many(monkeypatch):
    monkeypatch.setattr(rate_limit, "PRUNE_AT", 3)
    clock = Clock()
    limiter = RateLimiter(60, clock)
    for client in ("a", "b", "c"):
        limiter.take(client)
    clock.now += 2  # a and b refill; c is taken again and stays below full
    limiter.take("c")
    limiter.take("c")
    limiter.take("d")
    assert len(limiter) == 2  # c (not full) and d
    assert limiter.take("c") == 0.0
