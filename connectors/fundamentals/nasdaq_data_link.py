"""Nasdaq Data Link's REST API v3 (formerly Quandl): time-series datasets
(``/api/v3/datasets/{database}/{dataset}/data.json``) and datatables
(``/api/v3/datatables/{code}.json``, paginated with ``qopts.cursor_id``).

With ``STREAMLINES_NASDAQ_DATA_LINK_API_KEY`` set, Nasdaq Data Link itself
(``STREAMLINES_NASDAQ_DATA_LINK_URL``); without, the local replay server, which plays the same
API over the real data sets with the key ``replay``. A request answered 429 or 5xx (or timing
out) is retried with the bars gather's ``Backoff`` (the same settings, ``Retry-After`` honoured).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import requests

from connectors.gather.client import (
    RETRY_STATUSES,
    Backoff,
    SourceUnavailable,
    Stopped,
    SymbolFailed,
)
from streamlines.settings import Settings

log = logging.getLogger(__name__)

REPLAY_API_KEY = "replay"
MAX_PER_PAGE = 10_000


@dataclass(frozen=True)
class Provider:
    """Where fundamentals come from: Nasdaq Data Link (live) or the replay server."""

    live: bool
    url: str
    api_key: str

    @property
    def name(self) -> str:
        return "Nasdaq Data Link" if self.live else f"the replay server at {self.url}"


def provider(settings: Settings) -> Provider:
    key = settings.nasdaq_data_link_api_key
    if key is not None and key.get_secret_value():
        url = settings.nasdaq_data_link_url.rstrip("/")
        return Provider(True, url, key.get_secret_value())
    return Provider(False, settings.replay_url, REPLAY_API_KEY)


def _quandl_message(response: requests.Response) -> str:
    """The API's own ``quandl_error`` message, else the start of the body."""
    try:
        error = response.json()["quandl_error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason or "no message"


class NasdaqDataLink:
    """A client of the API; ``sleep`` replaces the wait between retries (unit tests)."""

    def __init__(
        self,
        source: Provider,
        backoff: Backoff,
        timeout: float = 60.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.source = source
        self.backoff = backoff
        self.timeout = timeout
        self.retries = 0
        self.stopping = threading.Event()
        self._sleep = sleep or self._wait
        self._session = requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings) -> NasdaqDataLink:
        return cls(
            provider(settings), Backoff.from_settings(settings), settings.gather_request_timeout
        )

    def close(self) -> None:
        self._session.close()

    def _wait(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise Stopped()

    def dataset(self, code: str, start: date, end: date) -> list[tuple[str, float | None]]:
        """The ``(date, value)`` rows of time series ``code`` (``MULTPL/SP500_EARNINGS_MONTH``)
        dated ``start`` to ``end`` inclusive, oldest first. ``SymbolFailed`` for an unknown
        code or a refused parameter."""
        params = {"start_date": start.isoformat(), "end_date": end.isoformat(), "order": "asc"}
        body = self._get(f"/api/v3/datasets/{code}/data.json", params, code)
        try:
            data = body["dataset_data"]
            names = [str(n).lower() for n in data["column_names"]]
            day, value = names.index("date"), names.index("value")
            return [(str(row[day]), row[value]) for row in data["data"]]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SymbolFailed(f"{code}: an answer without dataset_data rows ({exc!r})") from None

    def datatable(self, code: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        """Every row of datatable ``code`` (``ZACKS/EA``) that ``filters`` select (``ticker``,
        ``act_rpt_date.gte``, ...), as column name -> value, following ``next_cursor_id``."""
        params = {**filters, "qopts.per_page": str(MAX_PER_PAGE)}
        rows: list[dict[str, Any]] = []
        while True:
            body = self._get(f"/api/v3/datatables/{code}.json", params, code)
            try:
                table = body["datatable"]
                names = [column["name"] for column in table["columns"]]
                rows += [dict(zip(names, row, strict=True)) for row in table["data"]]
                cursor = (body.get("meta") or {}).get("next_cursor_id")
            except (KeyError, TypeError, ValueError) as exc:
                raise SymbolFailed(f"{code}: an answer without datatable rows ({exc!r})") from None
            if not cursor:
                return rows
            params["qopts.cursor_id"] = str(cursor)

    def _get(self, path: str, params: dict[str, str], code: str) -> Any:
        """One GET, retried on 429/5xx and timeouts; the decoded JSON of a 200."""
        attempt = 0
        while True:
            response = self._send(path, params)
            if response is not None and response.status_code == 200:
                try:
                    return response.json()
                except ValueError:
                    raise SymbolFailed(f"{code}: the answer is not JSON") from None
            if response is not None and response.status_code not in RETRY_STATUSES:
                raise self._failure(code, response)
            if attempt >= self.backoff.max_retries:
                raise self._gave_up(code, response)
            headers = response.headers if response is not None else None
            wait = self.backoff.delay(attempt, headers)
            attempt += 1
            self.retries += 1
            status = "timeout" if response is None else response.status_code
            log.info("%s from %s: retry %d in %.1f s", status, path, attempt, wait)
            self._sleep(wait)

    def _gave_up(self, code: str, response: requests.Response | None) -> SymbolFailed:
        if response is None:
            return SymbolFailed(
                f"{code}: {self.source.name} did not answer within {self.timeout:.0f} s, "
                f"{self.backoff.max_retries + 1} times"
            )
        return SymbolFailed(
            f"{code}: HTTP {response.status_code} ({_quandl_message(response)}) after "
            f"{self.backoff.max_retries} retries"
        )

    def _send(self, path: str, params: dict[str, str]) -> requests.Response | None:
        """The answer, or None when the server did not answer in time."""
        if self.stopping.is_set():
            raise Stopped()
        try:
            return self._session.get(
                f"{self.source.url}{path}",
                params={**params, "api_key": self.source.api_key},
                timeout=self.timeout,
            )
        except requests.Timeout:
            return None
        except requests.ConnectionError as exc:
            raise SourceUnavailable(
                f"cannot reach {self.source.name}: {type(exc).__name__}",
                "start the local stack (`streamlines stack up`), or set "
                "STREAMLINES_NASDAQ_DATA_LINK_API_KEY to use Nasdaq Data Link",
            ) from None

    def _failure(self, code: str, response: requests.Response) -> Exception:
        message = _quandl_message(response)
        if response.status_code == 404 and not message.startswith("QE"):
            # Not the API's own "unknown code": the server does not have the API at all.
            return SourceUnavailable(
                f"{self.source.name} does not serve Nasdaq Data Link's API v3 "
                f"(HTTP 404 for {code})",
                "check STREAMLINES_NASDAQ_DATA_LINK_URL"
                if self.source.live
                else "a replay server from before fundamentals: restart it "
                "(`streamlines stack down replay && streamlines stack up replay`)",
            )
        if response.status_code in (400, 401, 403) and "api key" in message.lower():
            fix = (
                "check STREAMLINES_NASDAQ_DATA_LINK_API_KEY (and that the account may use this "
                "data)"
                if self.source.live
                else "the replay server refused the key; is it a replay server?"
            )
            return SourceUnavailable(f"{self.source.name} refused the key: {message}", fix)
        if response.status_code == 403:
            return SourceUnavailable(
                f"{self.source.name} refused {code}: {message}",
                "the account's plan does not include this data; subscribe to it on Nasdaq "
                "Data Link",
            )
        return SymbolFailed(f"{code}: HTTP {response.status_code} ({message})")
