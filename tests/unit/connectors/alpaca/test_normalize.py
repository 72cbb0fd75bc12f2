"""Raw Alpaca messages (as alpaca-py passes them with raw_data=True) to the event schema."""

from __future__ import annotations

from datetime import UTC, datetime

import msgpack
import pytest

from connectors.alpaca.normalize import event_time_ns, normalize, topic_kind
from streamlines.contracts.events import Bar, Quote, SchemaError, Trade

T_NS = 1_325_601_000_123_456_789  # 2012-01-03T14:30:00.123456789Z


def ts(t_ns: int = T_NS) -> msgpack.Timestamp:
    return msgpack.Timestamp.from_unix_nano(t_ns)


def stock_trade(**changes: object) -> dict:
    message = {"T": "t", "S": "GOOG", "i": 7, "x": "V", "p": 665.41, "s": 100, "c": ["@"],
               "z": "C", "t": ts()}  # fmt: skip
    return {**message, **changes}


def test_stock_trade_keeps_prices_and_nanosecond_event_time():
    event = normalize(stock_trade())
    assert event == Trade(symbol="GOOG", t_ns=T_NS, price=665.41, size=100, trade_id=7,
                          exchange="V", conditions=("@",), tape="C")  # fmt: skip


def test_crypto_trade_without_exchange_or_conditions():
    message = {"T": "t", "S": "BTC/USD", "i": 3, "p": 5.2, "s": 0.25, "tks": "B", "t": ts()}
    event = normalize(message)
    assert isinstance(event, Trade)
    assert (event.symbol, event.price, event.size, event.exchange) == ("BTC/USD", 5.2, 0.25, None)


def test_quote_and_bar():
    quote = normalize({"T": "q", "S": "GOOG", "bp": 665.0, "bs": 2, "ap": 665.5, "as": 3,
                       "bx": "V", "ax": "V", "c": ["R"], "z": "C", "t": ts()})  # fmt: skip
    assert quote == Quote(symbol="GOOG", t_ns=T_NS, bid_price=665.0, bid_size=2, ask_price=665.5,
                          ask_size=3, bid_exchange="V", ask_exchange="V", conditions=("R",),
                          tape="C")  # fmt: skip
    bar = normalize({"T": "b", "S": "GOOG", "o": 1.0, "h": 2.0, "l": 0.5, "c": 1.5, "v": 900,
                     "n": 9, "vw": 1.2, "t": ts(1_325_601_000_000_000_000)})  # fmt: skip
    assert bar == Bar(symbol="GOOG", t_ns=1_325_601_000_000_000_000, open=1.0, high=2.0, low=0.5,
                      close=1.5, volume=900, trade_count=9, vwap=1.2)  # fmt: skip


@pytest.mark.parametrize(
    "value",
    [
        ts(),
        "2012-01-03T14:30:00.123456789Z",
        "2012-01-03T09:30:00.123456789-05:00",
    ],
)
def test_event_time_from_every_wire_form(value):
    assert event_time_ns(value) == T_NS


def test_event_time_from_datetime_and_whole_seconds():
    assert event_time_ns(datetime(2012, 1, 3, 14, 30, tzinfo=UTC)) == 1_325_601_000 * 10**9
    assert event_time_ns("2012-01-03T14:30:00Z") == 1_325_601_000 * 10**9


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (stock_trade(p=-1.0), "price"),
        (stock_trade(p="abc"), "price"),
        (stock_trade(s=None, p=None), "price"),
        (stock_trade(S="goog"), "symbol"),
        (stock_trade(S=None), "symbol"),
        (stock_trade(t=None), "t:"),
        (stock_trade(t="yesterday"), "RFC 3339"),
        (stock_trade(t=datetime(2012, 1, 3)), "time zone"),
        (stock_trade(T="s"), "T:"),
        (
            {"T": "b", "S": "GOOG", "o": 1.0, "h": 0.5, "l": 0.4, "c": 0.45, "v": 1, "t": ts()},
            "low",
        ),
        (["not", "a", "dict"], "not an object"),
    ],
)
def test_invalid_messages_raise_schema_error_with_the_reason(message, reason):
    with pytest.raises(SchemaError) as caught:
        normalize(message)
    assert reason in caught.value.reason


def test_topic_kind():
    assert topic_kind(stock_trade()) == "trade"
    assert topic_kind({"T": "q"}) == "quote"
    assert topic_kind({"T": "b"}) == "bar"
    assert topic_kind({"T": "d"}) is None
    assert topic_kind(b"junk") is None
