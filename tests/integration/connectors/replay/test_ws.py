"""The websocket streams of the replay server: the unmodified alpaca-py stream clients over
real sockets, and the protocol at the frame level (a plain websockets client): JSON and msgpack
frames, subscription arithmetic and every error code."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from typing import Any

import msgpack
import numpy as np
import pandas as pd
import pytest
import requests
from alpaca.data.live import CryptoDataStream, StockDataStream
from alpaca.data.models import Bar, Quote, Trade
from websockets.asyncio.client import ClientConnection, connect

from streamlines.datasets import load_bars, load_daily_bars
from tests.support.replay import REPLAY_START, collector, run_stream


def _ns(message: dict) -> int:
    return message["t"].to_unix_nano()


def test_stock_trades_arrive_in_order_and_rebuild_the_real_daily_bar(replay, api_key):
    """Every GOOG trade of the first replayed day, in order, with nanosecond timestamps; together
    they rebuild the real GOOG daily bar exactly (open, high, low, close, volume)."""
    trades: list[dict] = []
    done = threading.Event()
    day = pd.Timestamp(REPLAY_START, tz="UTC")
    next_day_ns = (day + pd.Timedelta(days=1)).value
    stream = StockDataStream(api_key, "secret", raw_data=True, url_override=f"{replay.ws}/v2/iex")

    async def on_trade(message: Trade | dict) -> None:
        assert isinstance(message, dict)  # raw_data=True: the decoded message
        if _ns(message) >= next_day_ns:
            done.set()
        elif not done.is_set():
            trades.append(message)

    stream.subscribe_trades(on_trade, "GOOG")
    run_stream(stream, done)

    real = load_daily_bars("GOOG").loc[day]
    times = [_ns(t) for t in trades]
    prices = [t["p"] for t in trades]
    assert all(t["T"] == "t" and t["S"] == "GOOG" for t in trades)
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert any(ns % 1000 for ns in times), "timestamps carry nanoseconds, not just microseconds"
    assert pd.Timestamp(times[0], tz="UTC").date() == day.date()
    assert prices[0] == real.open
    assert prices[-1] == real.close
    assert max(prices) == real.high
    assert min(prices) == real.low
    assert sum(t["s"] for t in trades) == real.volume
    assert {"i", "x", "p", "s", "c", "z", "t"} <= set(trades[0])


def test_parsed_trades_and_minute_bars_agree(replay, api_key):
    """alpaca-py's own models parse the messages; each minute bar is aggregated from exactly
    the trades of that minute (open, high, low, close, volume, count, VWAP)."""
    trades: list[Trade] = []
    bars: list[Bar] = []
    done = threading.Event()
    stream = StockDataStream(api_key, "secret", url_override=f"{replay.ws}/v2/iex")

    async def on_trade(trade: Trade | dict) -> None:
        assert isinstance(trade, Trade)  # not raw data: alpaca-py's parsed model
        trades.append(trade)

    stream.subscribe_trades(on_trade, "SP500")
    stream.subscribe_bars(collector(20, done, bars), "SP500")
    run_stream(stream, done)

    assert len(bars) == 20
    frame = pd.DataFrame(
        {
            "t": [t.timestamp for t in trades],
            "p": [t.price for t in trades],
            "s": [t.size for t in trades],
        }
    )
    frame["minute"] = frame["t"].dt.floor("min")
    for bar in bars:
        rows = frame[frame["minute"] == bar.timestamp]
        assert bar.symbol == "SP500"
        assert (bar.open, bar.close) == (rows["p"].iloc[0], rows["p"].iloc[-1])
        assert (bar.high, bar.low) == (rows["p"].max(), rows["p"].min())
        assert bar.volume == rows["s"].sum()
        assert bar.trade_count == len(rows)
        assert bar.vwap == pytest.approx((rows["p"] * rows["s"]).sum() / rows["s"].sum())


def test_daily_bar_updates_end_at_the_real_daily_bar(replay, api_key):
    daily: list[dict] = []
    done = threading.Event()
    day = pd.Timestamp(REPLAY_START, tz="UTC")
    stream = StockDataStream(api_key, "secret", raw_data=True, url_override=f"{replay.ws}/v2/sip")

    async def on_daily(message: Bar | dict) -> None:
        assert isinstance(message, dict)  # raw_data=True: the decoded message
        if _ns(message) > day.value:
            done.set()
        elif not done.is_set():
            daily.append(message)

    stream.subscribe_daily_bars(on_daily, "NASDAQ")
    run_stream(stream, done)

    real = load_daily_bars("NASDAQ").loc[day]
    last = daily[-1]
    assert last["T"] == "d"
    assert _ns(last) == day.value
    assert (last["o"], last["h"], last["l"], last["c"], last["v"]) == (
        real.open,
        real.high,
        real.low,
        real.close,
        real.volume,
    )
    assert [d["v"] for d in daily] == sorted(d["v"] for d in daily)


def test_crypto_trades_and_quotes(replay, api_key):
    trades: list[dict] = []
    quotes: list[dict] = []
    done = threading.Event()
    stream = CryptoDataStream(
        api_key, "secret", raw_data=True, url_override=f"{replay.ws}/v1beta3/crypto/us"
    )
    stream.subscribe_trades(collector(200, done, trades), "BTC/USD")

    async def on_quote(message: Quote | dict) -> None:
        assert isinstance(message, dict)  # raw_data=True: the decoded message
        quotes.append(message)

    stream.subscribe_quotes(on_quote, "BTC/USD")
    run_stream(stream, done)

    month = load_bars("BTCUSD").iloc[0]  # January 2012, the month the replay starts in
    assert len(trades) == 200
    for trade in trades:
        assert trade["S"] == "BTC/USD"
        assert not {"x", "c", "z"} & set(trade)
        assert month.low <= trade["p"] <= month.high
    times = [_ns(t) for t in trades]
    assert times == sorted(times)
    assert quotes
    assert all(q["bp"] <= q["ap"] and not {"bx", "ax", "c", "z"} & set(q) for q in quotes)


def test_reconnect_after_injected_drop_resubscribes_and_resumes(replay, api_key):
    """The server drops the stream after 150 messages; alpaca-py reconnects, re-subscribes,
    and the trades continue where they stopped: no gap, no duplicate."""
    replay.call("POST", "/control/faults", {"drop_after_messages": 150, "drop_connections": 1})
    opened_before = replay.health()["streams_opened"]
    trades: list[dict] = []
    done = threading.Event()
    stream = StockDataStream(api_key, "secret", raw_data=True, url_override=f"{replay.ws}/v2/iex")
    stream.subscribe_trades(collector(400, done, trades), "GOOG")
    run_stream(stream, done, timeout=45)

    assert len(trades) == 400
    assert replay.health()["streams_opened"] - opened_before == 2
    ids = [t["i"] for t in trades]
    assert ids == list(range(ids[0], ids[0] + 400)), "resumed without gap or duplicate"
    times = [_ns(t) for t in trades]
    assert times == sorted(times)


def test_refused_auth_is_retried_by_the_client(replay, api_key):
    replay.call("POST", "/control/faults", {"refuse_auth": 1})
    trades: list[dict] = []
    done = threading.Event()
    stream = StockDataStream(api_key, "secret", raw_data=True, url_override=f"{replay.ws}/v2/iex")
    stream.subscribe_trades(collector(10, done, trades), "GOOG")
    run_stream(stream, done, timeout=30)
    assert len(trades) == 10


def test_client_survives_malformed_and_out_of_order_frames(replay, api_key):
    replay.call("POST", "/control/faults", {"malformed_every": 3, "out_of_order_every": 5})
    trades: list[dict] = []
    done = threading.Event()
    stream = StockDataStream(api_key, "secret", raw_data=True, url_override=f"{replay.ws}/v2/iex")
    stream.subscribe_trades(collector(3000, done, trades), "GOOG", "SP500")
    run_stream(stream, done)
    assert len(trades) == 3000
    times = [_ns(t) for t in trades]
    assert times != sorted(times), "some messages were delivered out of order"


MSGPACK = {"Content-Type": "application/msgpack"}


async def _recv(ws: ClientConnection) -> list[dict[str, Any]]:
    frame = await asyncio.wait_for(ws.recv(), 10)
    return msgpack.unpackb(frame) if isinstance(frame, bytes) else json.loads(frame)


async def _send(ws: ClientConnection, message: dict[str, Any], binary: bool) -> None:
    await ws.send(msgpack.packb(message) if binary else json.dumps(message))


async def _session(url: str, key: str, binary: bool = True) -> ClientConnection:
    ws = await connect(url, additional_headers=MSGPACK if binary else None)
    assert await _recv(ws) == [{"T": "success", "msg": "connected"}]
    await _send(ws, {"action": "auth", "key": key, "secret": "s"}, binary)
    assert await _recv(ws) == [{"T": "success", "msg": "authenticated"}]
    return ws


async def _confirmation(ws: ClientConnection) -> dict[str, Any]:
    """The next subscription confirmation, skipping market data already streaming."""
    while True:
        for message in await _recv(ws):
            if message["T"] == "subscription":
                return message


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_json_clients_get_text_frames_with_rfc3339_nanosecond_times(replay, api_key):
    async def scenario() -> list[dict[str, Any]]:
        ws = await _session(f"{replay.ws}/v2/iex", api_key, binary=False)
        await _send(ws, {"action": "subscribe", "trades": ["GOOG"]}, binary=False)
        frame = await asyncio.wait_for(ws.recv(), 10)
        assert isinstance(frame, str)
        data = json.loads(frame)
        while len(data) < 5:
            data += json.loads(await asyncio.wait_for(ws.recv(), 10))
        await ws.close()
        return data

    confirmation, *trades = _run(scenario())
    assert confirmation["T"] == "subscription"
    assert trades[0]["T"] == "t"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", trades[0]["t"])


def test_msgpack_frames_carry_timestamp_extension_minus_one(replay, api_key):
    async def scenario() -> str | bytes:
        ws = await _session(f"{replay.ws}/v2/test", api_key)
        await _send(ws, {"action": "subscribe", "trades": ["GOOG"]}, binary=True)
        await _recv(ws)
        frame = await asyncio.wait_for(ws.recv(), 10)
        await ws.close()
        return frame

    frame = _run(scenario())
    assert isinstance(frame, bytes)
    trades = msgpack.unpackb(frame)
    assert isinstance(trades[0]["t"], msgpack.Timestamp)  # only ext type -1 decodes to this
    assert b"\xd7\xff" in frame or b"\xc7\x0c\xff" in frame  # fixext8 / ext8 of type -1


def test_subscriptions_add_subtract_and_wildcard(replay, api_key):
    async def scenario() -> list[dict[str, Any]]:
        ws = await _session(f"{replay.ws}/v2/iex", api_key)
        confirmations = []
        for message in (
            {"action": "subscribe", "trades": ["AAPL"], "quotes": ["GOOG"]},
            {"action": "subscribe", "trades": ["MSFT"], "bars": ["*"]},
            {"action": "unsubscribe", "trades": ["AAPL"], "bars": ["*"]},
        ):
            await _send(ws, message, binary=True)
            confirmations.append(await _confirmation(ws))
        await ws.close()
        return confirmations

    first, second, third = _run(scenario())
    assert first["trades"] == ["AAPL"]
    assert first["corrections"] == ["AAPL"]
    assert first["cancelErrors"] == ["AAPL"]
    assert first["quotes"] == ["GOOG"]
    assert second["trades"] == ["AAPL", "MSFT"]
    assert second["bars"] == ["*"]
    assert third["trades"] == ["MSFT"]
    assert third["corrections"] == ["MSFT"]
    assert third["bars"] == []
    assert third["quotes"] == ["GOOG"]
    assert set(third) >= {"updatedBars", "dailyBars", "statuses", "lulds"}


def test_a_large_fragmented_subscribe_is_reassembled(replay, api_key):
    symbols = [f"SYM{k:05d}" for k in range(5000)]

    async def scenario() -> dict[str, Any]:
        ws = await _session(f"{replay.ws}/v2/iex", api_key)
        payload = msgpack.packb({"action": "subscribe", "quotes": symbols})
        assert len(payload) > 32768
        # The way alpaca-py sends it: one message in 32 KiB fragments.
        await ws.send(payload[i : i + 32768] for i in range(0, len(payload), 32768))
        confirmation = (await _recv(ws))[0]
        await ws.close()
        return confirmation

    assert _run(scenario())["quotes"] == sorted(symbols)


def test_error_codes(replay, api_key):
    stock = f"{replay.ws}/v2/iex"

    async def first_error(ws: ClientConnection) -> int:
        messages = await _recv(ws)
        assert messages[0]["T"] == "error"
        return messages[0]["code"]

    async def scenario() -> dict[str, int]:
        codes: dict[str, int] = {}
        ws = await connect(stock, additional_headers=MSGPACK)
        await _recv(ws)
        await _send(ws, {"action": "subscribe", "trades": ["GOOG"]}, binary=True)
        codes["not authenticated"] = await first_error(ws)
        await ws.send(b"\xc1garbage")
        codes["invalid syntax"] = await first_error(ws)
        await _send(ws, {"action": "auth", "key": "", "secret": ""}, binary=True)
        codes["auth failed"] = await first_error(ws)
        await ws.close()

        ws = await _session(stock, api_key)
        await _send(ws, {"action": "auth", "key": api_key, "secret": "s"}, binary=True)
        codes["already authenticated"] = await first_error(ws)
        await _send(ws, {"action": "subscribe", "orderbooks": ["GOOG"]}, binary=True)
        codes["invalid subscribe action"] = await first_error(ws)
        second = await connect(stock, additional_headers=MSGPACK)
        await _recv(second)
        await _send(second, {"action": "auth", "key": api_key, "secret": "s"}, binary=True)
        codes["connection limit"] = await first_error(second)
        await second.close()
        await ws.close()

        replay.call("POST", "/control/config", {"max_symbols": 2})
        ws = await _session(stock, api_key + "-b")
        await _send(ws, {"action": "subscribe", "trades": ["A", "B", "C"]}, binary=True)
        codes["symbol limit"] = await first_error(ws)
        await ws.close()

        replay.call("POST", "/control/config", {"allowed_feeds": ["iex"], "auth_timeout": 0.3})
        ws = await connect(f"{replay.ws}/v2/sip", additional_headers=MSGPACK)
        await _recv(ws)
        await _send(ws, {"action": "auth", "key": api_key + "-c", "secret": "s"}, binary=True)
        codes["insufficient subscription"] = await first_error(ws)
        await ws.close()

        ws = await connect(stock, additional_headers=MSGPACK)
        await _recv(ws)
        codes["auth timeout"] = await first_error(ws)
        await ws.close()
        return codes

    assert _run(scenario()) == {
        "not authenticated": 401,
        "invalid syntax": 400,
        "auth failed": 402,
        "already authenticated": 403,
        "invalid subscribe action": 410,
        "connection limit": 406,
        "symbol limit": 405,
        "insufficient subscription": 409,
        "auth timeout": 404,
    }


def test_control_endpoint_rejects_unknown_faults(replay):
    response = requests.post(f"{replay.http}/control/faults", json={"explode": True}, timeout=10)
    assert response.status_code == 400
    assert "drop_after_messages" in response.json()["message"]
    assert replay.call("GET", "/control")["faults"]["drop_after_messages"] is None


@pytest.mark.parametrize(
    ("feed", "symbol", "at_least"),
    # BTC/USD trades are generated from monthly bars: a few per replayed hour.
    [("v2/iex", "SP500", 30), ("v1beta3/crypto/us", "BTC/USD", 3)],
    ids=["stock", "crypto"],
)
def test_connections_streaming_at_once_share_one_timeline(replay, api_key, feed, symbol, at_least):
    """Paced at 600x, a second connection (another key, another symbol; a stock or a crypto
    stream) opened 2 s after the first gets the trades of the same moment, not a timeline of
    its own behind (20 minutes; for crypto, the night before the stock session), so a consumer
    merging both in event time finds none of them late."""
    speed = 600.0
    replay.call("POST", "/control/config", {"speed": speed})

    async def stream(key: str, path: str, symbol: str, delay: float, seconds: float) -> list[float]:
        """Per trade received: replay time (s) minus wall time x speed, which is constant
        on one timeline."""
        await asyncio.sleep(delay)
        ws = await _session(f"{replay.ws}/{path}", key, binary=False)
        await _send(ws, {"action": "subscribe", "trades": [symbol]}, binary=False)
        offsets, stop = [], time.monotonic() + seconds
        while time.monotonic() < stop:
            for message in await _recv(ws):
                if message["T"] == "t":
                    event_s = pd.Timestamp(message["t"]).value / 1e9
                    offsets.append(event_s - time.monotonic() * speed)
        await ws.close()
        return offsets

    async def scenario() -> tuple[list[float], list[float]]:
        return await asyncio.gather(
            stream(api_key, "v2/iex", "GOOG", 0.0, 6.0),
            stream(f"{api_key}-b", feed, symbol, 2.0, 4.0),
        )

    first, second = _run(scenario())
    assert len(first) > 50
    assert len(second) >= at_least
    # Sending takes some ms (seconds of replay time); a timeline of its own would be
    # 2 s x 600 = 1,200 s behind.
    gap = float(np.median(second)) - float(np.median(first))
    assert abs(gap) < 30.0, gap
