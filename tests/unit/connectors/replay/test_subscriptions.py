"""Subscription arithmetic and its errors."""

from __future__ import annotations

import pytest

from connectors.replay.protocol import ErrorCode
from connectors.replay.subscriptions import SubscriptionError, Subscriptions


def test_subscribe_is_additive_and_unsubscribe_subtractive():
    subs = Subscriptions("stock")
    subs.apply({"action": "subscribe", "trades": ["A", "B"], "bars": ["C"]})
    subs.apply({"action": "subscribe", "trades": ["D"]})
    subs.apply({"action": "unsubscribe", "trades": ["A"]})
    confirmation = subs.confirmation()
    assert confirmation["trades"] == ["B", "D"]
    assert confirmation["corrections"] == ["B", "D"]
    assert confirmation["cancelErrors"] == ["B", "D"]
    assert confirmation["bars"] == ["C"]
    assert subs.streamed_symbols(["A", "B", "C", "D", "E"]) == ["B", "C", "D"]


def test_wildcard_streams_the_whole_universe():
    subs = Subscriptions("crypto")
    subs.apply({"action": "subscribe", "orderbooks": ["*"]})
    assert subs.wants("orderbooks", "BTC/USD")
    assert not subs.wants("trades", "BTC/USD")
    assert subs.streamed_symbols(["BTC/USD", "EUR/USD"]) == ["BTC/USD", "EUR/USD"]


@pytest.mark.parametrize(
    ("asset_class", "message", "code"),
    [
        ("stock", {"action": "subscribe", "orderbooks": ["A"]}, ErrorCode.INVALID_SUBSCRIBE_ACTION),
        ("crypto", {"action": "subscribe", "statuses": ["A"]}, ErrorCode.INVALID_SUBSCRIBE_ACTION),
        ("stock", {"action": "subscribe", "trades": "A"}, ErrorCode.INVALID_SYNTAX),
        (
            "stock",
            {"action": "subscribe", "trades": ["A", "B", "C"]},
            ErrorCode.SYMBOL_LIMIT_EXCEEDED,
        ),
    ],
)
def test_errors_leave_the_set_unchanged(asset_class, message, code):
    subs = Subscriptions(asset_class, max_symbols=2)
    with pytest.raises(SubscriptionError) as raised:
        subs.apply(message)
    assert raised.value.code == code
    assert subs.is_empty()
