"""The replay server's fundamentals provider: Nasdaq Data Link's REST API v3 (formerly Quandl),
serving real data (``connectors.replay.nasdaq_data``: Shiller's monthly S&P 500 series as the
MULTPL datasets, HistoricalEarningsData's announcements as the Zacks ``ZACKS/EA`` table).

- Time-series API, ``GET /api/v3/datasets/{database_code}/{dataset_code}/data.json``:
  ``start_date``, ``end_date`` (``YYYY-MM-DD``, inclusive), ``order`` (``asc``/``desc``, default
  desc), ``limit`` (the first rows in that order), ``column_index`` (0 or 1: the one value
  column is all there is). ``start_date``/``end_date`` of the answer are the dataset's whole range.
- Tables API, ``GET /api/v3/datatables/{vendor_code}/{table_code}.json``: ``ticker``
  (comma-separated; required here), ``act_rpt_date`` and its ``.gt``, ``.gte``, ``.lt``,
  ``.lte`` filters, ``qopts.columns``, ``qopts.per_page`` (default and at most 10,000),
  ``qopts.cursor_id`` (from ``meta.next_cursor_id``; null on the last page). Rows by
  ``act_rpt_date``, then ticker; an unknown ticker has none.

Auth as Nasdaq Data Link's: the ``api_key`` query parameter (any non-empty key is accepted, as
any Alpaca key pair is). Errors in Nasdaq Data Link's shape, ``{"quandl_error": {"code",
"message"}}``, with its codes: QEAx01 (400, no key), QECx02 (404, unknown code), QESx04 (422, a
bad parameter, named). The server's REST rate limit (per key, ``X-RateLimit-*`` headers, 429
QELx04) and injected REST errors (429, 5xx QEMx01) apply here as to Alpaca's data routes.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.replay.dates import parse_day
from connectors.replay.nasdaq_data import (
    ZACKS_EA,
    ZACKS_EA_COLUMNS,
    ZacksRow,
    column_specs,
    monthly_series,
    zacks_ea_rows,
)
from connectors.replay.state import ServerState

MAX_PER_PAGE = 10_000
_DATE_FILTERS = {"": "==", ".gt": ">", ".gte": ">=", ".lt": "<", ".lte": "<="}


class NasdaqError(Exception):
    """An answer in Nasdaq Data Link's error shape."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"quandl_error": {"code": self.code, "message": self.message}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def unknown_code() -> NasdaqError:
    return NasdaqError(
        404,
        "QECx02",
        "You have submitted an incorrect Quandl code. Please check your Quandl codes and try "
        "again.",
    )


def bad_parameter(name: str, value: str, should: str) -> NasdaqError:
    return NasdaqError(422, "QESx04", f"{name} {value!r} is not valid: {should}.")


def _day(params: Mapping[str, str], name: str) -> str | None:
    """A date parameter as ``YYYY-MM-DD`` text (compares as dates), or None when not given."""
    text = params.get(name)
    if text is None:
        return None
    try:
        return parse_day(text).isoformat()
    except ValueError:
        raise bad_parameter(name, text, "use a date as YYYY-MM-DD") from None


def _positive(params: Mapping[str, str], name: str, most: int | None = None) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    should = f"use a whole number from 1 to {most}" if most else "use a positive whole number"
    try:
        number = int(text)
    except ValueError:
        raise bad_parameter(name, text, should) from None
    if number < 1 or (most is not None and number > most):
        raise bad_parameter(name, text, should)
    return number


def dataset_data(code: str, params: Mapping[str, str]) -> dict[str, Any]:
    """The time-series API's ``dataset_data`` answer for ``code`` (``DATABASE/DATASET``)."""
    series = monthly_series(code.upper())
    if series is None:
        raise unknown_code()
    start, end = _day(params, "start_date"), _day(params, "end_date")
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_parameter("order", order, "use asc or desc")
    limit = _positive(params, "limit")
    column_index = params.get("column_index")
    if column_index is not None and column_index not in ("0", "1"):
        raise bad_parameter("column_index", column_index, "use 0 (Date) or 1 (Value)")
    a = bisect.bisect_left(series.dates, start) if start else 0
    b = bisect.bisect_right(series.dates, end) if end else len(series.dates)
    rows = [[d, v] for d, v in zip(series.dates[a:b], series.values[a:b], strict=True)]
    if order == "desc":
        rows.reverse()
    return {
        "dataset_data": {
            "limit": limit,
            "transform": None,
            "column_index": None if column_index is None else int(column_index),
            "column_names": ["Date", "Value"],
            "start_date": series.dates[0],
            "end_date": series.dates[-1],
            "frequency": "monthly",
            "data": rows[:limit],
            "collapse": None,
            "order": order,
        }
    }


def _columns(params: Mapping[str, str]) -> list[str]:
    names = [name for name, _ in ZACKS_EA_COLUMNS]
    text = params.get("qopts.columns")
    if text is None:
        return names
    asked = list(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    unknown = [c for c in asked if c not in names]
    if unknown or not asked:
        raise bad_parameter("qopts.columns", text, f"use some of {', '.join(names)}")
    return asked


def _date_filter(params: Mapping[str, str]) -> Callable[[str], bool]:
    bounds = [(op, _day(params, f"act_rpt_date{suffix}")) for suffix, op in _DATE_FILTERS.items()]
    given = [(op, day) for op, day in bounds if day is not None]

    def keeps(day: str) -> bool:
        return all(
            {"==": day == d, ">": day > d, ">=": day >= d, "<": day < d, "<=": day <= d}[op]
            for op, d in given
        )

    return keeps


def _encode_cursor(row: ZacksRow) -> str:
    return base64.urlsafe_b64encode(json.dumps([row[3], row[0]]).encode()).decode()


def _decode_cursor(text: str) -> list[str]:
    try:
        key = json.loads(base64.urlsafe_b64decode(text.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != 2 or not all(isinstance(k, str) for k in key):
        raise bad_parameter("qopts.cursor_id", text, "use the meta.next_cursor_id of a page")
    return key


def datatable_page(code: str, params: Mapping[str, str]) -> dict[str, Any]:
    """One page of the tables API's answer for ``code`` (``VENDOR/TABLE``)."""
    if code.upper() != ZACKS_EA:
        raise unknown_code()
    text = params.get("ticker", "")
    tickers = sorted({t.strip().upper() for t in text.split(",") if t.strip()})
    if not tickers:
        raise bad_parameter("ticker", text, "name one or more tickers, comma-separated")
    columns = _columns(params)
    per_page = _positive(params, "qopts.per_page", MAX_PER_PAGE) or MAX_PER_PAGE
    keeps = _date_filter(params)
    rows = sorted(
        (row for ticker in tickers for row in zacks_ea_rows(ticker) if keeps(row[3])),
        key=lambda row: (row[3], row[0]),
    )
    cursor = params.get("qopts.cursor_id")
    if cursor:
        resume = _decode_cursor(cursor)
        rows = [row for row in rows if [row[3], row[0]] >= resume]
    page, rest = rows[:per_page], rows[per_page:]
    names = [name for name, _ in ZACKS_EA_COLUMNS]
    picks = [names.index(c) for c in columns]
    return {
        "datatable": {
            "data": [[row[i] for i in picks] for row in page],
            "columns": column_specs(columns),
        },
        "meta": {"next_cursor_id": _encode_cursor(rest[0]) if rest else None},
    }


class NasdaqDataLinkApi:
    """The time-series and tables routes, behind Nasdaq Data Link's key check and the server's
    rate limit and injected faults."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route(
                "/api/v3/datasets/{database_code}/{dataset_code}/data.json",
                self.time_series,
                methods=["GET"],
            ),
            Route(
                "/api/v3/datatables/{vendor_code}/{table_code}.json",
                self.table,
                methods=["GET"],
            ),
        ]

    async def time_series(self, request: Request) -> Response:
        path = request.path_params
        code = f"{path['database_code']}/{path['dataset_code']}"
        return self.answer(request, lambda: dataset_data(code, request.query_params))

    async def table(self, request: Request) -> Response:
        path = request.path_params
        code = f"{path['vendor_code']}/{path['table_code']}"
        return self.answer(request, lambda: datatable_page(code, request.query_params))

    def answer(self, request: Request, query: Callable[[], dict[str, Any]]) -> Response:
        headers: dict[str, str] = {}
        try:
            key = request.query_params.get("api_key", "").strip()
            if not key:
                raise NasdaqError(
                    400,
                    "QEAx01",
                    "We could not recognize your API key. Please check your API key and try again.",
                )
            headers = self._rate_limit(key)
            self._injected_failure()
            body = query()
        except NasdaqError as exc:
            exc.headers = exc.headers or headers
            return exc.response()
        return JSONResponse(body, headers=headers)

    def _rate_limit(self, key: str) -> dict[str, str]:
        limit = self.state.config.rest_rate_limit
        if not limit:
            return {}
        # Counted apart from the same text used as an Alpaca key: they are different accounts.
        allowed, remaining, reset = self.state.rate_limiter.hit(f"nasdaq:{key}", limit)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
        if not allowed:
            raise NasdaqError(
                429,
                "QELx04",
                f"You have exceeded the API speed limit of {limit} calls per minute. Please "
                "slow down your requests.",
                headers,
            )
        return headers

    def _injected_failure(self) -> None:
        status = self.state.faults.rest_error_now()
        if status is None:
            return
        if status == 429:
            reset = str(int(time.time()) + 60)
            raise NasdaqError(
                429,
                "QELx04",
                "You have exceeded the API speed limit (injected). Please slow down your requests.",
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
            )
        message = "Something went wrong. Please try again later. (injected)"
        raise NasdaqError(status, "QEMx01", message)
