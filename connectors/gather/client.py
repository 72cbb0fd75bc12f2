"""Historical bars through alpaca-py's ``StockHistoricalDataClient`` and
``CryptoHistoricalDataClient`` (they follow ``next_page_token``), raw and adjusted, merged into
``HistoryBar`` events.

Live Alpaca when keys are configured, the local replay server otherwise (the same choice as
``connectors.alpaca.stream.endpoints``). A request answered 429 or 5xx is retried here, per
request (so a page in the middle of a paginated range is retried, not the whole range), with
the server's ``Retry-After`` / ``X-RateLimit-Reset`` when it gives one, otherwise exponential
backoff with jitter; alpaca-py's own fixed 3-second retry is switched off.

Daily stock bars get ``dividend`` and ``split_factor`` from Alpaca's corporate actions of the
same range (``connectors.gather.corporate_actions``); when those cannot be fetched the fields
stay None (unknown) and a warning is logged: they never fail a gather.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, CorporateActionsType, DataFeed
from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
from alpaca.data.historical.corporate_actions import CorporateActionsClient
from alpaca.data.requests import CorporateActionsRequest, CryptoBarsRequest, StockBarsRequest
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from connectors.alpaca.normalize import event_time_ns
from connectors.alpaca.stream import endpoints
from connectors.gather.corporate_actions import (
    ACTION_TYPES,
    CorporateAction,
    parse_actions,
    with_corporate_actions,
)
from streamlines.contracts.events import HistoryBar, SchemaError
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.settings import Settings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
Row = dict[str, Any]

# How much time one fetch covers: a few pages at most (10,000 bars a page), so a symbol's first
# bars are written while later ones are still being fetched.
FETCH_WINDOW = {
    BarTimeframe.DAY_1: timedelta(days=3660),
    BarTimeframe.HOUR_1: timedelta(days=366),
    BarTimeframe.MINUTE_1: timedelta(days=10),
}
_ALPACA_UNITS = {
    BarTimeframe.DAY_1: TimeFrameUnit.Day,
    BarTimeframe.HOUR_1: TimeFrameUnit.Hour,
    BarTimeframe.MINUTE_1: TimeFrameUnit.Minute,
}


def alpaca_timeframe(timeframe: BarTimeframe) -> TimeFrame:
    """alpaca-py's ``TimeFrame`` for a bar timeframe."""
    return TimeFrame(1, _ALPACA_UNITS[timeframe])


class SymbolFailed(Exception):
    """This symbol could not be gathered (reported; the other symbols go on)."""


class Stopped(Exception):
    """The run is stopping (another symbol hit a fatal error, or Ctrl-C)."""


class SourceUnavailable(Exception):
    """Nothing can be gathered from this source (unreachable, or the keys are refused)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Backoff:
    max_retries: int = 8
    initial: float = 1.0
    maximum: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Backoff:
        return cls(
            settings.gather_max_retries,
            settings.gather_backoff_initial,
            settings.gather_backoff_max,
        )

    def delay(self, attempt: int, headers: Any = None, now: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
        told = _server_wait(headers or {}, time.time() if now is None else now)
        if told is None:
            base = self.initial * 2**attempt
            told = base / 2 + random.uniform(0, base / 2)
        return max(0.0, min(told, self.maximum))


def _server_wait(headers: Any, now: float) -> float | None:
    """What the server asked for: ``Retry-After`` seconds, or until ``X-RateLimit-Reset``
    (Unix seconds) when no requests remain in the window."""
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        try:
            return float(retry_after)
        except ValueError:
            return None
    reset = headers.get("X-RateLimit-Reset")
    if reset is not None and headers.get("X-RateLimit-Remaining", "0") == "0":
        try:
            return float(reset) - now
        except ValueError:
            return None
    return None


class _TimeoutSession(requests.Session):
    """alpaca-py sends its requests without a timeout; a stuck server would hang a cron run."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


class _Backoff:
    """Mixin over alpaca-py's ``RESTClient``: retries 429/5xx answers with ``Backoff``."""

    backoff: Backoff
    retries: int
    _session: requests.Session
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def _setup(self, backoff: Backoff, timeout: float) -> None:
        self.backoff = backoff
        self.retries = 0
        self._retry = 0  # alpaca-py's own retry (fixed 3 s, 429/504 only): off
        self._session = _TimeoutSession(timeout)

    def _request(self, *args: Any, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            try:
                return super()._request(*args, **kwargs)  # type: ignore[misc]
            except APIError as exc:
                status = exc.status_code
                if status not in RETRY_STATUSES or attempt >= self.backoff.max_retries:
                    raise
                headers = exc.response.headers if exc.response is not None else {}
                wait = self.backoff.delay(attempt, headers)
            except requests.Timeout:
                if attempt >= self.backoff.max_retries:
                    raise
                status = "timeout"
                wait = self.backoff.delay(attempt)
            attempt += 1
            self.retries += 1
            path = args[1] if len(args) > 1 else kwargs.get("path")
            log.info("%s from %s: retry %d in %.1f s", status, path, attempt, wait)
            self.sleep(wait)


class _StockClient(_Backoff, StockHistoricalDataClient):
    def __init__(
        self, key: str, secret: str, url: str | None, backoff: Backoff, timeout: float
    ) -> None:
        super().__init__(key, secret, raw_data=True, url_override=url)
        self._setup(backoff, timeout)


class _CryptoClient(_Backoff, CryptoHistoricalDataClient):
    def __init__(
        self, key: str, secret: str, url: str | None, backoff: Backoff, timeout: float
    ) -> None:
        super().__init__(key, secret, raw_data=True, url_override=url)
        self._setup(backoff, timeout)


class _ActionsClient(_Backoff, CorporateActionsClient):
    def __init__(
        self, key: str, secret: str, url: str | None, backoff: Backoff, timeout: float
    ) -> None:
        super().__init__(key, secret, raw_data=True, url_override=url)
        self._setup(backoff, timeout)


@lru_cache(maxsize=1 << 16)
def _t_ns(text: str) -> int:
    # Many symbols share the same bar times; parsing each once matters at 20,000 bars/s.
    return event_time_ns(text)


def history_bar(symbol: str, timeframe: str, raw: Row, adjusted: Row) -> HistoryBar:
    """One bar from Alpaca's raw and ``adjustment=all`` rows of the same time."""
    close = raw["c"]
    vwap = raw.get("vw")
    return HistoryBar.from_dict(
        {
            "symbol": symbol,
            "t_ns": _t_ns(raw["t"]),
            "timeframe": timeframe,
            "open": raw["o"],
            "high": raw["h"],
            "low": raw["l"],
            "close": close,
            "volume": raw["v"],
            "trade_count": raw.get("n"),
            # A bar without trades has no VWAP; Alpaca sends 0 for it.
            "vwap": vwap if vwap else None,
            "adj_open": adjusted["o"],
            "adj_high": adjusted["h"],
            "adj_low": adjusted["l"],
            "adj_close": adjusted["c"],
            "adj_volume": adjusted["v"],
            "adj_factor": adjusted["c"] / close if close else None,
        }
    )


@dataclass
class Fetched:
    bars: list[HistoryBar]
    rejected: list[tuple[Row, str]]


def merge(symbol: str, timeframe: str, raw: list[Row], adjusted: list[Row]) -> Fetched:
    """Pair raw and adjusted rows by time; a row that does not fit the schema is rejected
    with the reason, the others are kept."""
    by_time = {row["t"]: row for row in adjusted}
    bars: list[HistoryBar] = []
    rejected: list[tuple[Row, str]] = []
    for row in raw:
        other = by_time.get(row["t"])
        if other is None:
            rejected.append((row, f"no adjusted bar at {row['t']}"))
            continue
        try:
            bars.append(history_bar(symbol, timeframe, row, other))
        except SchemaError as exc:
            rejected.append((row, exc.reason))
        except (KeyError, TypeError) as exc:
            rejected.append((row, f"invalid bar: missing or wrong field {exc}"))
    return Fetched(bars, rejected)


@dataclass(frozen=True)
class Source:
    """Where bars come from: Alpaca's servers (live) or the replay server."""

    live: bool
    url: str | None  # None = alpaca-py's default (Alpaca's data API)
    key: str
    secret: str

    @property
    def name(self) -> str:
        return "Alpaca" if self.live else f"the replay server at {self.url}"


def source(settings: Settings) -> Source:
    ends = endpoints(settings, replay_key="streamlines-gather")
    return Source(ends.live, None if ends.live else settings.replay_url, ends.key, ends.secret)


class BarClient:
    """Fetches one symbol's bars over a time range; safe to share between threads (each thread
    gets its own HTTP session)."""

    def __init__(
        self,
        src: Source,
        backoff: Backoff,
        feed: str | None = None,
        timeout: float = 60.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """``sleep`` replaces the wait between retries (unit tests); by default a wait ends
        early, raising ``Stopped``, when ``stop()`` is called."""
        self.source = src
        self.backoff = backoff
        self.feed = DataFeed(feed) if feed else None
        self.timeout = timeout
        self.stopping = threading.Event()
        self._sleep = sleep or self._wait
        self._local = threading.local()
        self._clients: list[_Backoff] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> BarClient:
        return cls(
            source(settings),
            Backoff.from_settings(settings),
            settings.gather_feed,
            settings.gather_request_timeout,
        )

    def stop(self) -> None:
        self.stopping.set()

    def _wait(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise Stopped()

    @property
    def retries(self) -> int:
        with self._lock:
            return sum(c.retries for c in self._clients)

    def _client(self, crypto: bool, actions: bool = False) -> Any:
        name = "actions" if actions else "crypto" if crypto else "stock"
        client = getattr(self._local, name, None)
        if client is None:
            kind = _ActionsClient if actions else _CryptoClient if crypto else _StockClient
            src = self.source
            client = kind(src.key, src.secret, src.url, self.backoff, self.timeout)
            client.sleep = self._sleep
            setattr(self._local, name, client)
            with self._lock:
                self._clients.append(client)
        return client

    def rows(
        self, symbol: str, timeframe: BarTimeframe, start: datetime, end: datetime, adjusted: bool
    ) -> list[Row]:
        """Alpaca's bar rows (``t, o, h, l, c, v, n, vw``) with start <= t <= end, all pages."""
        with self._failures_reported(symbol):
            data = self._bars(symbol, timeframe, start, end, adjusted)
        return data.get(symbol, [])

    @contextmanager
    def _failures_reported(self, symbol: str) -> Iterator[None]:
        """A failed request as ``SymbolFailed`` (this symbol) or ``SourceUnavailable`` (all)."""
        try:
            yield
        except APIError as exc:
            raise self._failure(symbol, exc) from None
        except requests.Timeout:
            raise SymbolFailed(
                f"{self.source.name} did not answer within {self.timeout:.0f} s, "
                f"{self.backoff.max_retries} times"
            ) from None
        except requests.ConnectionError as exc:
            raise SourceUnavailable(
                f"cannot reach {self.source.name}: {type(exc).__name__}",
                "start the local stack (`streamlines stack up`), or set "
                "STREAMLINES_ALPACA_API_KEY and STREAMLINES_ALPACA_SECRET_KEY for live Alpaca",
            ) from None

    def _bars(
        self, symbol: str, timeframe: BarTimeframe, start: datetime, end: datetime, adjusted: bool
    ) -> Any:
        if "/" in symbol:
            crypto = CryptoBarsRequest(
                symbol_or_symbols=symbol,
                timeframe=alpaca_timeframe(timeframe),
                start=start,
                end=end,
            )
            return self._client(True).get_crypto_bars(crypto)
        stock = StockBarsRequest(
            symbol_or_symbols=symbol,
            timeframe=alpaca_timeframe(timeframe),
            start=start,
            end=end,
            adjustment=Adjustment.ALL if adjusted else Adjustment.RAW,
            feed=self.feed,
        )
        return self._client(False).get_stock_bars(stock)

    def fetch(
        self, symbol: str, timeframe: BarTimeframe, start: datetime, end: datetime
    ) -> Fetched:
        """Raw and adjusted bars of ``symbol`` with start <= t <= end, as ``HistoryBar``s.
        Crypto has no corporate actions: its adjusted prices are the raw ones."""
        raw = self.rows(symbol, timeframe, start, end, adjusted=False)
        if not raw:
            return Fetched([], [])
        adjusted = raw if "/" in symbol else self.rows(symbol, timeframe, start, end, True)
        fetched = merge(symbol, timeframe.value, raw, adjusted)
        if timeframe is BarTimeframe.DAY_1 and "/" not in symbol and fetched.bars:
            fetched.bars = self._with_corporate_actions(symbol, fetched.bars, start, end)
        return fetched

    def _with_corporate_actions(
        self, symbol: str, bars: list[HistoryBar], start: datetime, end: datetime
    ) -> list[HistoryBar]:
        """``bars`` with their dividends and splits, or as they are (unknown) when the corporate
        actions cannot be fetched: they are extra, never a reason to fail the gather."""
        try:
            actions = self.corporate_actions(symbol, start.date(), end.date())
        except Stopped:
            raise
        except Exception as exc:
            log.warning(
                "%s: no corporate actions from %s (%s): dividend and split_factor left unknown",
                symbol, self.source.name, exc,
            )  # fmt: skip
            return bars
        return with_corporate_actions(bars, actions)

    def corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        """``symbol``'s cash dividends and splits going ex from ``start`` to ``end`` (inclusive),
        every page; raises like ``rows`` (``SymbolFailed``, ``SourceUnavailable``) and
        ``ValueError`` for an answer it cannot read."""
        # limit None: every page (alpaca-py's default of 1000 caps the total, not the page).
        request = CorporateActionsRequest(
            symbols=[symbol],
            types=[CorporateActionsType(kind) for kind in ACTION_TYPES],
            start=start,
            end=end,
            limit=None,
        )
        with self._failures_reported(symbol):
            raw = self._client(False, actions=True).get_corporate_actions(request)
        return [a for a in parse_actions(raw) if a.symbol == symbol]

    def _failure(self, symbol: str, exc: APIError) -> Exception:
        status = exc.status_code
        try:
            message = exc.message
        except (ValueError, KeyError, TypeError):
            message = str(exc)[:200]
        if status in (401, 403):
            fix = (
                "check STREAMLINES_ALPACA_API_KEY / _SECRET_KEY and the account's data plan "
                "(STREAMLINES_GATHER_FEED=iex works on the free plan)"
                if self.source.live
                else "the replay server refused the key; see its --credentials option"
            )
            return SourceUnavailable(f"{self.source.name} refused the request: {message}", fix)
        if status in RETRY_STATUSES:
            return SymbolFailed(
                f"HTTP {status} ({message}) after {self.backoff.max_retries} retries"
            )
        return SymbolFailed(f"HTTP {status}: {message}")
