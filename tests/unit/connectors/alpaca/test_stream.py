"""Which endpoints ingest connects to, and which frames alpaca-py could not use."""

from __future__ import annotations

import msgpack
from pydantic import SecretStr

from connectors.alpaca.stream import (
    WatchedCryptoDataStream,
    WatchedStockDataStream,
    _undecodable,
    crypto_stream,
    endpoints,
    stock_stream,
)
from streamlines.settings import Settings


def test_replay_server_without_keys():
    settings = Settings(_env_file=None, replay_port=9123, alpaca_api_key=None)
    ends = endpoints(settings, replay_key="k1")
    assert not ends.live
    assert ends.source == "replay"
    assert ends.stock_url == "ws://127.0.0.1:9123/v2/iex"
    assert ends.crypto_url == "ws://127.0.0.1:9123/v1beta3/crypto/us"
    assert ends.key == "k1"
    stock = stock_stream(ends)
    crypto = crypto_stream(ends)
    assert isinstance(stock, WatchedStockDataStream)
    assert isinstance(crypto, WatchedCryptoDataStream)
    assert stock._endpoint == ends.stock_url
    assert crypto._endpoint == ends.crypto_url
    assert stock._raw_data
    assert crypto._raw_data


def test_live_alpaca_with_keys():
    settings = Settings(
        _env_file=None,
        alpaca_api_key=SecretStr("AK"),
        alpaca_secret_key=SecretStr("SK"),
        ingest_feed="sip",
    )
    ends = endpoints(settings)
    assert ends.live
    assert ends.source == "alpaca"
    assert (ends.key, ends.secret) == ("AK", "SK")
    assert stock_stream(ends)._endpoint == "wss://stream.data.alpaca.markets/v2/sip"
    assert crypto_stream(ends)._endpoint.startswith("wss://stream.data.alpaca.markets/v1beta3")


def test_replay_feed_in_the_url():
    settings = Settings(_env_file=None, alpaca_api_key=None, ingest_feed="test")
    assert stock_stream(endpoints(settings))._endpoint.endswith("/v2/test")


def _reason(frame: bytes) -> str:
    """Why the frame is undecodable (it must be)."""
    reason = _undecodable(frame)
    assert reason is not None
    return reason


def test_undecodable_frames():
    assert _undecodable(msgpack.packb([{"T": "t"}])) is None
    assert "not valid msgpack" in _reason(b"\xc1 not msgpack")
    assert "not a list" in _reason(msgpack.packb({"T": "t"}))
    assert "not a list" in _reason(msgpack.packb([1, 2]))


def test_messages_alpaca_py_would_drop_silently_are_handed_on():
    settings = Settings(_env_file=None, replay_port=9123, alpaca_api_key=None)
    stream = stock_stream(endpoints(settings), max_backoff=2.0)
    assert stream._reconnect_max_backoff == 2.0

    async def handler(message: object) -> None: ...

    stream.subscribe_trades(handler, "GOOG")
    handed: list[dict] = []
    stream.on_undeliverable = handed.append
    good = {"T": "t", "S": "GOOG", "p": 1.0}
    bad: list[dict] = [{"T": "t", "S": "X" * 100}, {"T": "t", "S": "MSFT"}, {"T": 42}, {"T": ["t"]}]
    control = {"T": "subscription", "trades": ["GOOG"]}
    messages: list[dict] = [good, *bad, control]
    frame = stream._deliverable(msgpack.packb(messages), messages)
    assert msgpack.unpackb(frame) == [good, control]
    assert handed == bad
    everyday = msgpack.packb([good, control])
    assert stream._deliverable(everyday, [good, control]) is everyday
