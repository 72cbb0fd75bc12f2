"""One connection's subscription set: additive subscribe, subtractive unsubscribe, ``*``."""

from __future__ import annotations

import asyncio
from typing import Any

from connectors.replay.protocol import ErrorCode, Message

STOCK_CHANNELS = (
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
    "corrections",
    "cancelErrors",
)
CRYPTO_CHANNELS = ("trades", "quotes", "orderbooks", "bars", "updatedBars", "dailyBars")
# Subscribing to trades implies these (Alpaca sends corrections/cancels with trades).
TRADE_COMPANIONS = ("corrections", "cancelErrors")
WILDCARD = "*"


class SubscriptionError(Exception):
    def __init__(self, code: ErrorCode) -> None:
        super().__init__(code.name)
        self.code = code


class Subscriptions:
    def __init__(self, asset_class: str, max_symbols: int | None = None) -> None:
        self.channels = STOCK_CHANNELS if asset_class == "stock" else CRYPTO_CHANNELS
        self.max_symbols = max_symbols
        self.sets: dict[str, set[str]] = {c: set() for c in self.channels}
        self.changed = asyncio.Event()

    def _requested(self, message: dict[str, Any]) -> dict[str, set[str]]:
        requested: dict[str, set[str]] = {}
        for key, value in message.items():
            if key == "action":
                continue
            if key not in self.channels or key in TRADE_COMPANIONS:
                raise SubscriptionError(ErrorCode.INVALID_SUBSCRIBE_ACTION)
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise SubscriptionError(ErrorCode.INVALID_SYNTAX)
            requested[key] = set(value)
        return requested

    def apply(self, message: dict[str, Any]) -> None:
        """Apply a subscribe or unsubscribe message; raises SubscriptionError (state unchanged)."""
        action = message.get("action")
        requested = self._requested(message)
        updated = {c: set(s) for c, s in self.sets.items()}
        for channel, symbols in requested.items():
            targets = [channel]
            if channel == "trades" and "corrections" in self.channels:
                targets += list(TRADE_COMPANIONS)
            for target in targets:
                if action == "subscribe":
                    updated[target] |= symbols
                else:
                    updated[target] -= symbols
        distinct = set().union(*updated.values()) - {WILDCARD}
        if self.max_symbols is not None and len(distinct) > self.max_symbols:
            raise SubscriptionError(ErrorCode.SYMBOL_LIMIT_EXCEEDED)
        self.sets = updated
        self.changed.set()

    def confirmation(self) -> Message:
        message: Message = {"T": "subscription"}
        for channel in self.channels:
            message[channel] = sorted(self.sets[channel])
        return message

    def wants(self, channel: str, symbol: str) -> bool:
        symbols = self.sets.get(channel)
        if not symbols:
            return False
        return WILDCARD in symbols or symbol in symbols

    def streamed_symbols(self, universe_symbols: list[str]) -> list[str]:
        """Symbols of the universe that any data channel asks for."""
        wanted: set[str] = set()
        for channel, symbols in self.sets.items():
            if channel in TRADE_COMPANIONS or channel == "updatedBars" or not symbols:
                continue
            if WILDCARD in symbols:
                return universe_symbols
            wanted |= symbols
        return [s for s in universe_symbols if s in wanted]

    def is_empty(self) -> bool:
        return not any(self.sets.values())
