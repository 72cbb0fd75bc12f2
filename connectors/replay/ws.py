"""The market-data websocket: connect, authenticate, subscribe, stream (with injected faults)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from connectors.replay import protocol
from connectors.replay.engine import Batch, ReplayEngine, SlowClientError
from connectors.replay.hostile import HostileMessages
from connectors.replay.protocol import ErrorCode, FrameEncoder, Message
from connectors.replay.state import ServerState
from connectors.replay.subscriptions import SubscriptionError, Subscriptions

log = logging.getLogger(__name__)
MALFORMED_FRAME = b"\xc1 not msgpack"  # 0xc1 is never used in msgpack
CLOSE_DROPPED = 1011


class _Closed(Exception):
    """The stream ends: the client left, or the server closed it on purpose."""


class StreamSession:
    def __init__(
        self, websocket: WebSocket, state: ServerState, asset_class: str, feed: str
    ) -> None:
        self.ws = websocket
        self.state = state
        self.asset_class = asset_class
        self.feed = feed
        content_type = websocket.headers.get("content-type", "")
        self.encoder = FrameEncoder(use_msgpack="msgpack" in content_type)
        self.key: str | None = None
        self.subs = Subscriptions(asset_class, state.config.max_symbols)
        self.engine: ReplayEngine | None = None
        self.streamer: asyncio.Task[None] | None = None
        self.send_lock = asyncio.Lock()
        self.data_messages = 0
        self.data_frames = 0
        self.position: int | None = None
        self.drop_at: int | None = None
        self.hostile = HostileMessages()

    # ---- sending -----------------------------------------------------------------------------
    async def send(self, messages: list[Message]) -> None:
        async with self.send_lock:
            for frame in self.encoder.encode(messages):
                await self._send_frame(frame)

    async def _send_frame(self, frame: bytes | str) -> None:
        if self.ws.client_state != WebSocketState.CONNECTED:
            raise _Closed
        try:
            if isinstance(frame, bytes):
                await self.ws.send_bytes(frame)
            else:
                await self.ws.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise _Closed from exc

    async def close(self, code: int = 1000) -> None:
        with contextlib.suppress(Exception):
            if self.ws.client_state == WebSocketState.CONNECTED:
                await self.ws.close(code)

    async def drop(self) -> None:
        """Close the stream as a lost connection does (the control endpoint's drop), between
        two frames."""
        log.info("control: dropping the %s stream of %s", self.asset_class, self.key)
        async with self.send_lock:
            await self.close(CLOSE_DROPPED)

    async def fail(self, code: ErrorCode, close: bool = False) -> None:
        with contextlib.suppress(_Closed):
            await self.send([protocol.error(code)])
        if close:
            await self.close()
            raise _Closed

    # ---- receiving ---------------------------------------------------------------------------
    async def receive(self) -> Any:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise _Closed
        data = message.get("bytes") if message.get("bytes") is not None else message.get("text")
        return protocol.decode_client_message(data or b"")

    async def run(self) -> None:
        await self.ws.accept()
        try:
            await self.send([protocol.success("connected")])
            await self._authenticate()
            while True:
                try:
                    request = await self.receive()
                except ValueError:
                    await self.fail(ErrorCode.INVALID_SYNTAX)
                    continue
                await self._handle(request)
        except (_Closed, WebSocketDisconnect):
            pass
        finally:
            await self._finish()

    async def _authenticate(self) -> None:
        deadline = asyncio.get_running_loop().time() + self.state.config.auth_timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                request = await asyncio.wait_for(self.receive(), max(remaining, 0.001))
            except TimeoutError:
                await self.fail(ErrorCode.AUTH_TIMEOUT, close=True)
            except ValueError:
                await self.fail(ErrorCode.INVALID_SYNTAX)
                continue
            if not isinstance(request, dict) or "action" not in request:
                await self.fail(ErrorCode.INVALID_SYNTAX)
                continue
            if request["action"] != "auth":
                await self.fail(ErrorCode.NOT_AUTHENTICATED)
                continue
            await self._check_credentials(request)
            return

    async def _check_credentials(self, request: dict[str, Any]) -> None:
        faults = self.state.faults
        refuse, faults.refuse_auth = faults.take(faults.refuse_auth)
        if refuse or not self.state.accepts(request.get("key"), request.get("secret")):
            await self.fail(ErrorCode.AUTH_FAILED, close=True)
        key = str(request["key"])
        if self.asset_class == "stock" and self.feed not in self.state.config.allowed_feeds:
            await self.fail(ErrorCode.INSUFFICIENT_SUBSCRIPTION, close=True)
        slot = (key, self.asset_class)
        # A key the control endpoint sent away (an outage) is refused as Alpaca refuses a
        # reconnect before it has reaped the old connection.
        full = self.state.connections[slot] >= self.state.config.max_connections_per_key
        if full or self.state.away(key):
            await self.fail(ErrorCode.CONNECTION_LIMIT_EXCEEDED, close=True)
        self.state.connections[slot] += 1
        self.state.streams_opened += 1
        self.key = key
        self.state.sessions.add(self)
        await self.send([protocol.success("authenticated")])

    async def _handle(self, request: Any) -> None:
        if not isinstance(request, dict) or "action" not in request:
            await self.fail(ErrorCode.INVALID_SYNTAX)
            return
        action = request["action"]
        if action == "auth":
            await self.fail(ErrorCode.ALREADY_AUTHENTICATED)
            return
        if action not in ("subscribe", "unsubscribe"):
            await self.fail(ErrorCode.INVALID_SYNTAX)
            return
        try:
            self.subs.apply(request)
        except SubscriptionError as exc:
            await self.fail(exc.code)
            return
        await self.send([self.subs.confirmation()])
        if self.streamer is None and not self.subs.is_empty():
            self._start_streaming()

    # ---- streaming ---------------------------------------------------------------------------
    def _start_streaming(self) -> None:
        assert self.key is not None
        start, clock = self.state.stream_start(self.key, self.asset_class)
        self.position = start
        self.engine = ReplayEngine(
            self.state.universe,
            self.asset_class,
            self.subs,
            start,
            clock,
            self.state.config.slow_client_seconds,
        )
        faults = self.state.faults
        if faults.drop_after_messages is not None:
            drop, faults.drop_connections = faults.take(faults.drop_connections)
            self.drop_at = faults.drop_after_messages if drop else None
        self.streamer = asyncio.create_task(self._stream())

    async def _stream(self) -> None:
        assert self.engine is not None
        try:
            async for batch in self.engine.batches():
                await self._deliver(batch)
        except SlowClientError:
            with contextlib.suppress(_Closed):
                await self.fail(ErrorCode.SLOW_CLIENT, close=True)
        except _Closed:
            pass
        except Exception:
            log.exception("replay stream failed")
            await self.close(CLOSE_DROPPED)

    async def _deliver(self, batch: Batch) -> None:
        messages, positions = batch.messages, batch.positions
        if self.drop_at is not None and self.data_messages + len(messages) >= self.drop_at:
            keep = self.drop_at - self.data_messages
            await self._send_data(messages[:keep], positions[:keep])
            log.info("fault: dropping stream after %d messages", self.drop_at)
            await self.close(CLOSE_DROPPED)
            raise _Closed
        await self._send_data(messages, positions)

    async def _send_data(self, messages: list[Message], positions: list[int]) -> None:
        if not messages:
            return
        faults = self.state.faults
        every = faults.out_of_order_every
        if every:
            messages = list(messages)
            for k in range(len(messages) - 1):
                if (self.data_messages + k + 1) % every == 0:
                    messages[k], messages[k + 1] = messages[k + 1], messages[k]
        if faults.hostile_every:
            messages = self._with_hostile(messages, faults.hostile_every)
        self.data_frames += 1
        if faults.malformed_every and self.data_frames % faults.malformed_every == 0:
            async with self.send_lock:
                await self._send_frame(
                    MALFORMED_FRAME if self.encoder.use_msgpack else "[{not json"
                )
        await self.send(messages)
        if self.state.send_log is not None:
            self.state.send_log.record(messages, time.time_ns())
        self.data_messages += len(messages)
        self.state.messages_sent += len(messages)
        self.position = positions[-1]

    def _with_hostile(self, messages: list[Message], every: int) -> list[Message]:
        """``messages`` with a hostile message after every ``every``-th data message (counting
        across batches), while the fault's count lasts."""
        faults = self.state.faults
        out: list[Message] = []
        for k, message in enumerate(messages):
            out.append(message)
            self.hostile.saw(message)
            if (self.data_messages + k + 1) % every or not self.hostile.ready:
                continue
            fire, faults.hostile_count = faults.take(faults.hostile_count)
            if fire:
                kind, hostile = self.hostile.make()
                out.append(hostile)
                self.state.hostile_sent[kind] += 1
        return out

    async def _finish(self) -> None:
        if self.streamer is not None:
            self.streamer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.streamer
        if self.engine is not None:
            self.engine.close()
        self.state.sessions.discard(self)
        if self.key is not None:
            slot = (self.key, self.asset_class)
            self.state.connections[slot] -= 1
            if self.position is not None:
                self.state.positions[slot] = self.position
        await self.close()


async def stock_stream(websocket: WebSocket) -> None:
    feed = websocket.path_params["feed"]
    state: ServerState = websocket.app.state.replay
    if feed not in ("iex", "sip", "delayed_sip", "test"):
        await websocket.close(code=1008)
        return
    await StreamSession(websocket, state, "stock", feed).run()


async def crypto_stream(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.replay
    await StreamSession(websocket, state, "crypto", "us").run()
