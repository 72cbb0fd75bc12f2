"""alpaca-py stream clients for ingest: live Alpaca when keys are configured, the local replay
server otherwise. Both are the unmodified SDK classes with three additions: an undecodable frame
goes to ``on_malformed`` and a message the SDK would drop without a word (no handler for its
type or symbol: a symbol nobody subscribed to, a 10,000-character one, a type that is not a
string) to ``on_undeliverable``; every lost connection and every reconnect (with the length of
the gap) is logged and handed to ``on_reconnect`` (ingest backfills the gap). The SDK itself
reconnects with exponential backoff and jitter, capped at ``max_backoff`` seconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
from alpaca.common.enums import BaseURL
from alpaca.data.live import CryptoDataStream, StockDataStream

from streamlines.settings import Settings

log = logging.getLogger(__name__)

EMPTY_FRAME = msgpack.packb([])
MalformedHandler = Callable[[bytes | str, str], None]
# Message types and the handler table of each in alpaca-py's DataStream; other types it knows
# (control messages, channels ingest does not subscribe to) it handles or ignores itself.
DATA_CHANNELS = {"t": "trades", "q": "quotes", "b": "bars"}
KNOWN_TYPES = {"success", "error", "subscription", "d", "u", "s", "l", "c", "x", "n", "o"}


@dataclass(frozen=True)
class Outage:
    """A lost connection, once the stream is back: when it was lost (wall clock, ns), how long
    it took to reconnect, and the last event time received before it (None: none yet)."""

    stream: str
    lost_at_ns: int
    seconds: float
    last_event: Any


class _Watched:
    """Mixin over alpaca-py's ``DataStream``: checks each frame and logs connection gaps."""

    _endpoint: str
    _ws: Any
    _should_run: bool
    _name: str
    _handlers: dict[str, dict[str, Any]]
    on_malformed: MalformedHandler | None = None
    on_undeliverable: Callable[[Any], None] | None = None
    on_reconnect: Callable[[Outage], None] | None = None
    connections: int = 0
    disconnected_at: float | None = None
    lost_at_ns: int = 0
    last_event: Any = None  # ``t`` of the last data message received, for the gap log

    async def close(self) -> None:
        ws = self._ws
        if ws is not None and not self._should_run:
            # Stopping with the receive queue full, the close handshake would wait for a
            # reader that has already stopped reading; the process is leaving anyway.
            ws.transport.abort()
        await super().close()  # type: ignore[misc]

    async def _start_ws(self) -> None:
        await super()._start_ws()  # type: ignore[misc]
        self.connections += 1
        if self.disconnected_at is not None:
            gap = time.monotonic() - self.disconnected_at
            last = _rfc3339(self.last_event)
            log.warning(
                "reconnected to %s after a gap of %.1f s (connection %d); last event before "
                "the gap at %s", self._endpoint, gap, self.connections, last,
            )  # fmt: skip
            self.disconnected_at = None
            if self.on_reconnect is not None:
                self.on_reconnect(Outage(self._name, self.lost_at_ns, gap, self.last_event))
        recv = self._ws.recv

        async def checked_recv() -> Any:
            try:
                frame = await recv()
            except Exception as exc:
                if self.disconnected_at is None:
                    self.disconnected_at = time.monotonic()
                    self.lost_at_ns = time.time_ns()
                    if self._should_run:  # not when ingest itself is stopping
                        log.warning("connection to %s lost: %s; reconnecting", self._endpoint, exc)
                raise
            try:
                messages = _decode(frame)
            except ValueError as exc:
                if self.on_malformed is not None:
                    self.on_malformed(frame, str(exc))
                return EMPTY_FRAME
            if messages and "t" in messages[-1]:
                self.last_event = messages[-1]["t"]
            return self._deliverable(frame, messages)

        self._ws.recv = checked_recv

    def _deliverable(self, frame: Any, messages: list[dict[str, Any]]) -> Any:
        """The frame without the messages the SDK would drop silently (those go to
        ``on_undeliverable``); the frame itself when there are none, the common case."""
        dropped = [m for m in messages if not self._dispatchable(m)]
        if not dropped or self.on_undeliverable is None:
            return frame
        for message in dropped:
            self.on_undeliverable(message)
        return msgpack.packb([m for m in messages if self._dispatchable(m)])

    def _dispatchable(self, message: dict[str, Any]) -> bool:
        kind = message.get("T")
        if not isinstance(kind, str):
            return False
        channel = DATA_CHANNELS.get(kind)
        if channel is None:
            return kind in KNOWN_TYPES
        handlers = self._handlers[channel]
        symbol = message.get("S")
        return "*" in handlers or (isinstance(symbol, str) and symbol in handlers)


def _decode(frame: Any) -> list[dict[str, Any]]:
    """The frame's messages; ValueError saying why alpaca-py could not use it."""
    try:
        messages = msgpack.unpackb(frame)
    except Exception as exc:
        raise ValueError(f"frame is not valid msgpack: {type(exc).__name__}: {exc}") from None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ValueError("frame is not a list of message objects")
    return messages


def _undecodable(frame: Any) -> str | None:
    """Why alpaca-py could not use this frame, or None if it can."""
    try:
        _decode(frame)
    except ValueError as exc:
        return str(exc)
    return None


def _rfc3339(value: Any) -> str:
    if isinstance(value, msgpack.Timestamp):
        return value.to_datetime().isoformat()
    return "unknown" if value is None else str(value)


class WatchedStockDataStream(_Watched, StockDataStream):
    pass


class WatchedCryptoDataStream(_Watched, CryptoDataStream):
    pass


@dataclass(frozen=True)
class Endpoints:
    """Where the streams connect: Alpaca's servers (live) or the replay server."""

    live: bool
    stock_url: str
    crypto_url: str
    key: str
    secret: str
    rest_url: str | None = None  # the historical REST API (None: alpaca-py's, Alpaca's own)

    @property
    def source(self) -> str:
        return "alpaca" if self.live else "replay"


def endpoints(settings: Settings, replay_key: str = "streamlines-ingest") -> Endpoints:
    if settings.alpaca_api_key and settings.alpaca_secret_key:
        live = BaseURL.MARKET_DATA_STREAM.value
        return Endpoints(
            live=True,
            stock_url=f"{live}/v2/{settings.ingest_feed}",
            crypto_url=f"{live}/v1beta3/crypto/us",
            key=settings.alpaca_api_key.get_secret_value(),
            secret=settings.alpaca_secret_key.get_secret_value(),
        )
    ws = "ws" + settings.replay_url.removeprefix("http")
    return Endpoints(
        live=False,
        stock_url=f"{ws}/v2/{settings.ingest_feed}",
        crypto_url=f"{ws}/v1beta3/crypto/us",
        key=replay_key,
        secret="replay",  # the replay server accepts any non-empty pair
        rest_url=settings.replay_url,
    )


def stock_stream(ends: Endpoints, max_backoff: float = 30.0) -> WatchedStockDataStream:
    # The feed is in the URL; alpaca-py's own ``feed`` argument only accepts iex and sip.
    stream = WatchedStockDataStream(
        ends.key, ends.secret, raw_data=True, url_override=ends.stock_url
    )
    stream._reconnect_max_backoff = max_backoff
    return stream


def crypto_stream(ends: Endpoints, max_backoff: float = 30.0) -> WatchedCryptoDataStream:
    stream = WatchedCryptoDataStream(
        ends.key, ends.secret, raw_data=True, url_override=ends.crypto_url
    )
    stream._reconnect_max_backoff = max_backoff
    return stream
