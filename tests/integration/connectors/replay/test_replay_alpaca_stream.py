"""The unmodified alpaca-py stream clients against the replay server, over real sockets."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from alpaca.data.live import CryptoDataStream, StockDataStream
from alpaca.data.models import Bar, Trade

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

    async def on_trade(message: dict) -> None:
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

    async def on_trade(trade: Trade) -> None:
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

    async def on_daily(message: dict) -> None:
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

    async def on_quote(message: dict) -> None:
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
