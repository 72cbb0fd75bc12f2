"""The gap backfill's source: Alpaca's historical trades and quotes REST endpoints through
alpaca-py (``StockHistoricalDataClient.get_stock_trades``/``get_stock_quotes``, the crypto
client's ``get_crypto_trades``/``get_crypto_quotes``), against live Alpaca or the replay
server. Rows come back as the stream's raw messages (``T`` and ``S`` added), so the router
validates them as it validates the stream's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from alpaca.data.enums import DataFeed
from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
from alpaca.data.requests import (
    CryptoQuoteRequest,
    CryptoTradesRequest,
    StockQuotesRequest,
    StockTradesRequest,
)

from connectors.alpaca.stream import Endpoints

Row = dict[str, Any]


class History(Protocol):
    def fetch(self, kind: str, symbol: str, start_ns: int, end_ns: int) -> list[Row]:
        """``kind`` ``t`` (trades) or ``q`` (quotes) of ``symbol`` with start <= t <= end (to
        the microsecond, which is what the API takes), as raw stream messages."""
        ...


def _floor_us(t_ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=t_ns // 1000)


def _ceil_us(t_ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=-(-t_ns // 1000))


def _window(symbol: str, start_ns: int, end_ns: int) -> dict[str, Any]:
    return {"symbol_or_symbols": symbol, "start": _floor_us(start_ns), "end": _ceil_us(end_ns)}


def _messages(kind: str, symbol: str, data: Any) -> list[Row]:
    return [{**row, "T": kind, "S": symbol} for row in data.get(symbol) or []]


class StockHistory:
    """alpaca-py's ``StockHistoricalDataClient`` (``feed``: the stream's, when it is one the
    REST API knows)."""

    def __init__(self, ends: Endpoints, feed: str | None = None) -> None:
        self.feed = DataFeed(feed) if feed in {f.value for f in DataFeed} else None
        self.client = StockHistoricalDataClient(
            ends.key, ends.secret, raw_data=True, url_override=ends.rest_url
        )

    def fetch(self, kind: str, symbol: str, start_ns: int, end_ns: int) -> list[Row]:
        window = _window(symbol, start_ns, end_ns)
        data: Any
        if kind == "t":
            data = self.client.get_stock_trades(StockTradesRequest(**window, feed=self.feed))
        else:
            data = self.client.get_stock_quotes(StockQuotesRequest(**window, feed=self.feed))
        return _messages(kind, symbol, data)


class CryptoHistory:
    """alpaca-py's ``CryptoHistoricalDataClient`` (Alpaca's US crypto feed)."""

    def __init__(self, ends: Endpoints) -> None:
        self.client = CryptoHistoricalDataClient(
            ends.key, ends.secret, raw_data=True, url_override=ends.rest_url
        )

    def fetch(self, kind: str, symbol: str, start_ns: int, end_ns: int) -> list[Row]:
        window = _window(symbol, start_ns, end_ns)
        data: Any
        if kind == "t":
            data = self.client.get_crypto_trades(CryptoTradesRequest(**window))
        else:
            data = self.client.get_crypto_quotes(CryptoQuoteRequest(**window))
        return _messages(kind, symbol, data)
