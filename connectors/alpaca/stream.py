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
from alpaca.common.enums import BaseURL
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
        recv = self._ws.recv

        async def checked_recv() -> Any:
            try:
                frame = await recv()
            except Exception as exc:
                if self.disconnected_at is None:
                    self.disconnected_at = time.monotonic()
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
            return frame

        self._ws.recv = checked_recv


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
    )


def stock_stream(ends: Endpoints) -> WatchedStockDataStream:
    # The feed is in the URL; alpaca-py's own ``feed`` argument only accepts iex and sip.
    return WatchedStockDataStream(ends.key, ends.secret, raw_data=True, url_override=ends.stock_url)


def crypto_stream(ends: Endpoints) -> WatchedCryptoDataStream:
    return WatchedCryptoDataStream(
        ends.key, ends.secret, raw_data=True, url_override=ends.crypto_url
    )
