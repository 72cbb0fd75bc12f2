"""alpaca-py stream clients for ingest: live Alpaca when keys are configured, the local replay
server otherwise. Both are the unmodified SDK classes with two additions: an undecodable frame
goes to ``on_malformed`` instead of being dropped by the SDK, and every lost connection and
every reconnect (with the length of the gap) is logged. The SDK itself reconnects with
exponential backoff and jitter."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
from alpaca.data.enums import DataFeed
from alpaca.data.live import CryptoDataStream, StockDataStream

from streamlines.settings import Settings

log = logging.getLogger(__name__)

EMPTY_FRAME = msgpack.packb([])
MalformedHandler = Callable[[bytes | str, str], None]


class _Watched:
    """Mixin over alpaca-py's ``DataStream``: checks each frame and logs connection gaps."""

    _endpoint: str
    _ws: Any
    _should_run: bool
    on_malformed: MalformedHandler | None = None
    connections: int = 0
    disconnected_at: float | None = None

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
            log.warning(
                "reconnected to %s after a gap of %.1f s (connection %d)",
                self._endpoint, gap, self.connections,
            )  # fmt: skip
            self.disconnected_at = None
        recv = self._ws.recv

        async def checked_recv() -> Any:
            try:
                frame = await recv()
            except Exception as exc:
                if self.disconnected_at is None:
                    self.disconnected_at = time.monotonic()
                    log.warning("connection to %s lost: %s; reconnecting", self._endpoint, exc)
                raise
            reason = _undecodable(frame)
            if reason is None:
                return frame
            if self.on_malformed is not None:
                self.on_malformed(frame, reason)
            return EMPTY_FRAME

        self._ws.recv = checked_recv


def _undecodable(frame: Any) -> str | None:
    """Why alpaca-py could not use this frame, or None if it can."""
    try:
        messages = msgpack.unpackb(frame)
    except Exception as exc:
        return f"frame is not valid msgpack: {type(exc).__name__}: {exc}"
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return "frame is not a list of message objects"
    return None


class WatchedStockDataStream(_Watched, StockDataStream):
    pass


class WatchedCryptoDataStream(_Watched, CryptoDataStream):
    pass


@dataclass(frozen=True)
class Endpoints:
    """Where the streams connect; ``None`` URLs mean Alpaca's own servers."""

    live: bool
    stock_url: str | None
    crypto_url: str | None
    key: str
    secret: str

    @property
    def source(self) -> str:
        return "alpaca" if self.live else "replay"


def endpoints(settings: Settings, replay_key: str = "streamlines-ingest") -> Endpoints:
    if settings.alpaca_api_key and settings.alpaca_secret_key:
        return Endpoints(
            live=True,
            stock_url=None,
            crypto_url=None,
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
    )


def stock_stream(ends: Endpoints, feed: str = "iex") -> WatchedStockDataStream:
    return WatchedStockDataStream(
        ends.key, ends.secret, raw_data=True, feed=DataFeed(feed), url_override=ends.stock_url
    )


def crypto_stream(ends: Endpoints) -> WatchedCryptoDataStream:
    return WatchedCryptoDataStream(
        ends.key, ends.secret, raw_data=True, url_override=ends.crypto_url
    )
