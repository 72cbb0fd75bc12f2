"""Alpaca's historical market-data REST endpoints: bars, trades and quotes, paginated."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.replay.feed import SymbolFeed
from connectors.replay.state import ServerState
from connectors.replay.timeframe import AlpacaTimeframe, AlpacaTimeframeError
from streamlines.contracts.time import rfc3339_ns

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000
END_OF_TIME = np.iinfo(np.int64).max - 1
Row = dict[str, Any]


class RequestError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Chunk:
    """Items of one symbol in time order: their timestamps, and how to render rows[a:b]."""

    t: np.ndarray
    rows: Callable[[int, int], list[Row]]


def _time(value: str | None, name: str, default: int) -> int:
    if not value:
        return default
    try:
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise RequestError(400, 40010001, f"invalid {name}: {value!r} (use RFC 3339)") from exc
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value)


@lru_cache(maxsize=1 << 16)
def _bar_time(t_ns: int) -> str:
    # Cached: the symbols of a universe share their bar times (daily bars: one per day).
    text = rfc3339_ns(t_ns)
    return text.replace(".000000000Z", "Z")


def _volume(value: float, integral: bool) -> int | float:
    return int(value) if integral else float(value)


def bar_chunks(
    feed: SymbolFeed, timeframe: AlpacaTimeframe, t0: int, t1: int, adjusted: bool
) -> Iterator[Chunk]:
    integral = feed.integral_volume
    for bars in feed.iter_bars(timeframe, t0, t1, adjusted=adjusted):

        def rows(a: int, b: int, bars: Any = bars) -> list[Row]:
            # Whole columns to Python numbers at once (``tolist``), not element by element.
            volume = bars.volume[a:b]
            columns = zip(
                bars.close[a:b].tolist(),
                bars.high[a:b].tolist(),
                bars.low[a:b].tolist(),
                bars.trade_count[a:b].tolist(),
                bars.open[a:b].tolist(),
                bars.t[a:b].tolist(),
                (volume.astype(np.int64) if integral else volume).tolist(),
                bars.vwap[a:b].tolist(),
                strict=True,
            )
            return [
                {"c": c, "h": h, "l": low, "n": n, "o": o, "t": _bar_time(t), "v": v, "vw": vw}
                for c, h, low, n, o, t, v, vw in columns
            ]

        yield Chunk(bars.t, rows)


def trade_chunks(feed: SymbolFeed, t0: int, t1: int) -> Iterator[Chunk]:
    stock = feed.asset_class == "stock"
    for i in feed.bars_overlapping(t0, t1 + 1):
        trades = feed.trades_for_bar(i)
        a, b = np.searchsorted(trades.t, [t0, t1 + 1], side="left")
        part = trades.slice(int(a), int(b))

        def rows(a: int, b: int, part: Any = part) -> list[Row]:
            out = []
            for k in range(a, b):
                row: Row = {
                    "i": int(part.id[k]),
                    "p": float(part.price[k]),
                    "s": _volume(part.size[k], stock),
                    "t": rfc3339_ns(int(part.t[k])),
                }
                if stock:
                    row |= {"c": ["@"], "x": "V", "z": "C"}
                else:
                    row["tks"] = "B"
                out.append(row)
            return out

        yield Chunk(part.t, rows)


def quote_chunks(feed: SymbolFeed, t0: int, t1: int) -> Iterator[Chunk]:
    stock = feed.asset_class == "stock"
    for i in feed.bars_overlapping(t0, t1 + 1):
        quotes = feed.quotes_for_bar(i)
        a, b = np.searchsorted(quotes.t, [t0, t1 + 1], side="left")
        part = quotes.slice(int(a), int(b))

        def rows(a: int, b: int, part: Any = part) -> list[Row]:
            out = []
            for k in range(a, b):
                row: Row = {
                    "ap": float(part.ask_price[k]),
                    "as": _volume(part.ask_size[k], stock),
                    "bp": float(part.bid_price[k]),
                    "bs": _volume(part.bid_size[k], stock),
                    "t": rfc3339_ns(int(part.t[k])),
                }
                if stock:
                    row |= {"ax": "V", "bx": "V", "c": ["R"], "z": "C"}
                out.append(row)
            return out

        yield Chunk(part.t, rows)


def _encode_token(symbol: str, t_ns: int) -> str:
    return base64.urlsafe_b64encode(f"{symbol}|{t_ns}".encode()).decode()


def _decode_token(token: str) -> tuple[str, int]:
    try:
        symbol, t = base64.urlsafe_b64decode(token.encode()).decode().rsplit("|", 1)
        return symbol, int(t)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise RequestError(400, 40010001, "invalid page_token") from exc


def paginate(
    symbols: list[str],
    chunks_for: Callable[[str, int | None, bool], Iterator[Chunk]],
    limit: int,
    descending: bool,
    token: str | None,
) -> tuple[dict[str, list[Row]], str | None]:
    """Up to ``limit`` items across symbols (symbol order, then time) and the next page token."""
    resume_symbol, resume_t = _decode_token(token) if token else (None, None)
    result: dict[str, list[Row]] = {}
    remaining = limit
    for symbol in symbols:
        if resume_symbol is not None and symbol < resume_symbol:
            continue
        resume = resume_t if resume_symbol == symbol else None
        produced = chunks_for(symbol, resume, descending)
        chunks = reversed(list(produced)) if descending else produced
        for chunk in chunks:
            t = chunk.t[::-1] if descending else chunk.t
            start = 0
            if resume is not None:
                if descending:
                    start = int(np.searchsorted(-t, -resume, side="left"))
                else:
                    start = int(np.searchsorted(t, resume, side="left"))
            if start >= len(t):
                continue
            if remaining == 0:
                return result, _encode_token(symbol, int(t[start]))
            stop = min(len(t), start + remaining)
            if descending:
                n = len(t)
                rows = chunk.rows(n - stop, n - start)[::-1]
            else:
                rows = chunk.rows(start, stop)
            result.setdefault(symbol, []).extend(rows)
            remaining -= stop - start
            if stop < len(t):
                return result, _encode_token(symbol, int(t[stop]))
        resume_symbol = resume_t = None
    return result, None


class HistoricalApi:
    def __init__(self, state: ServerState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("/v2/stocks/bars", self._handler("bars", "stock"), methods=["GET"]),
            Route("/v2/stocks/trades", self._handler("trades", "stock"), methods=["GET"]),
            Route("/v2/stocks/quotes", self._handler("quotes", "stock"), methods=["GET"]),
            Route("/v2/stocks/{symbol}/bars", self._handler("bars", "stock"), methods=["GET"]),
            Route("/v2/stocks/{symbol}/trades", self._handler("trades", "stock"), methods=["GET"]),
            Route("/v2/stocks/{symbol}/quotes", self._handler("quotes", "stock"), methods=["GET"]),
            Route("/v1beta3/crypto/us/bars", self._handler("bars", "crypto"), methods=["GET"]),
            Route("/v1beta3/crypto/us/trades", self._handler("trades", "crypto"), methods=["GET"]),
            Route("/v1beta3/crypto/us/quotes", self._handler("quotes", "crypto"), methods=["GET"]),
        ]

    def _handler(self, kind: str, asset_class: str) -> Callable[[Request], Any]:
        async def handle(request: Request) -> Response:
            return self.respond(request, kind, asset_class)

        return handle

    def respond(self, request: Request, kind: str, asset_class: str) -> Response:
        return self.answer(request, lambda: self._query(request, kind, asset_class))

    def answer(self, request: Request, query: Callable[[], dict[str, Any]]) -> Response:
        """``query``'s body behind Alpaca's auth, rate limit and the injected faults; errors
        (``RequestError``) as Alpaca's JSON. For Alpaca's other data endpoints too."""
        headers: dict[str, str] = {}
        try:
            key = self._authorise(request)
            headers = self._rate_limit(key)
            self._injected_failure()
            body = query()
        except RequestError as exc:
            body = {"code": exc.code, "message": exc.message}
            headers = getattr(exc, "headers", headers)
            if exc.status == 429 and not headers:
                headers = self._exhausted_headers()
            return JSONResponse(body, status_code=exc.status, headers=headers)
        return JSONResponse(body, headers=headers)

    def _authorise(self, request: Request) -> str:
        key = request.headers.get("apca-api-key-id")
        secret = request.headers.get("apca-api-secret-key")
        if not key or not secret:
            raise RequestError(401, 40110000, "request is not authorized")
        if not self.state.accepts(key, secret):
            raise RequestError(403, 40310000, "forbidden")
        return key

    def _rate_limit(self, key: str) -> dict[str, str]:
        limit = self.state.config.rest_rate_limit
        if not limit:
            return {}
        allowed, remaining, reset = self.state.rate_limiter.hit(key, limit)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
        if not allowed:
            raise _RateLimited(headers)
        return headers

    def _exhausted_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.state.config.rest_rate_limit or 200),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + 60),
        }

    def _injected_failure(self) -> None:
        status = self.state.faults.rest_error_now()
        if status is None:
            return
        if status == 429:
            raise RequestError(429, 42910000, "rate limit exceeded (injected)")
        raise RequestError(status, 50010000, "internal server error (injected)")

    def _query(self, request: Request, kind: str, asset_class: str) -> dict[str, Any]:
        params = request.query_params
        single = request.path_params.get("symbol")
        raw_symbols = single or params.get("symbols", "")
        symbols = sorted({s.strip() for s in raw_symbols.split(",") if s.strip()})
        if not symbols:
            raise RequestError(400, 40010001, "symbols is required (comma separated)")
        limit = self._limit(params.get("limit"))
        descending = params.get("sort", "asc") == "desc"
        if params.get("sort", "asc") not in ("asc", "desc"):
            raise RequestError(400, 40010001, "sort must be asc or desc")
        t0 = _time(params.get("start"), "start", 0)
        t1 = _time(params.get("end"), "end", END_OF_TIME)
        adjustment = params.get("adjustment", "raw")
        if adjustment not in ("raw", "split", "dividend", "all"):
            raise RequestError(400, 40010001, "adjustment must be raw, split, dividend or all")
        chunks_for = self._chunks(kind, asset_class, params, t0, t1, adjustment != "raw")
        data, token = paginate(symbols, chunks_for, limit, descending, params.get("page_token"))
        if single:
            return {kind: data.get(single, []), "symbol": single, "next_page_token": token}
        return {kind: data, "next_page_token": token}

    @staticmethod
    def _limit(text: str | None) -> int:
        if not text:
            return DEFAULT_LIMIT
        try:
            limit = int(text)
        except ValueError as exc:
            raise RequestError(400, 40010001, f"invalid limit {text!r}") from exc
        if not 1 <= limit <= MAX_LIMIT:
            raise RequestError(422, 42210000, f"invalid limit: must be 1 to {MAX_LIMIT}")
        return limit

    def _chunks(
        self,
        kind: str,
        asset_class: str,
        params: Any,
        t0: int,
        t1: int,
        adjusted: bool,
    ) -> Callable[[str, int | None, bool], Iterator[Chunk]]:
        timeframe: AlpacaTimeframe | None = None
        if kind == "bars":
            try:
                timeframe = AlpacaTimeframe.parse(params.get("timeframe", ""))
            except AlpacaTimeframeError as exc:
                raise RequestError(400, 40010001, str(exc)) from exc

        def chunks_for(symbol: str, resume: int | None, descending: bool) -> Iterator[Chunk]:
            feed = self.state.universe.get(symbol)
            if feed is None or feed.asset_class != asset_class:
                return iter(())
            # A page token narrows the range, so later pages don't regenerate earlier data.
            lo = max(t0, resume) if resume is not None and not descending else t0
            hi = min(t1, resume) if resume is not None and descending else t1
            if timeframe is not None:
                return bar_chunks(feed, timeframe, lo, hi, adjusted)
            if kind == "trades":
                return trade_chunks(feed, lo, hi)
            return quote_chunks(feed, lo, hi)

        return chunks_for


class _RateLimited(RequestError):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(429, 42910000, "rate limit exceeded")
        self.headers = headers
