"""Open subscriptions per client."""

from __future__ import annotations

from graphql_server.subscription_slots import SubscriptionSlots


def test_each_client_has_its_own_slots_and_gets_them_back():
    slots = SubscriptionSlots(2)
    assert slots.acquire("a")
    assert slots.acquire("a")
    assert not slots.acquire("a")
    assert slots.acquire("b")
    assert (slots.open("a"), slots.open("b"), slots.total) == (2, 1, 3)
    slots.release("a")
    assert slots.acquire("a")
    for client in ("a", "a", "b"):
        slots.release(client)
    assert (slots.open("a"), slots.total) == (0, 0)
