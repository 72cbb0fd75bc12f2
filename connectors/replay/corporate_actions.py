"""Alpaca's corporate-actions endpoint (market-data API v1, ``GET /v1/corporate-actions``), in
the shape alpaca-py 0.44's ``CorporateActionsClient.get_corporate_actions`` requests and parses
(``alpaca.data.models.corporate_actions``), behind the same auth, rate limit and injected faults
as the bars (``APCA-API-KEY-ID``/``APCA-API-SECRET-KEY``).

Data: only the actions the server was given (``--corporate-actions FILE`` or ``POST
/control/corporate-actions``); none are built in, since the real data sets have none (GOOG paid
no dividend and made no split in 2004-2013, and the indices have none: see
``connectors.replay.corporate_action_rows``).

Params: ``symbols``, ``types`` (comma-separated; ``cash_dividend``, ``forward_split`` and
``reverse_split`` are served, Alpaca's other types are accepted and have none), ``start`` and
``end`` (``YYYY-MM-DD``, inclusive, on the ex-date; not given: unbounded, where Alpaca's default
is today), ``ids`` (not with the other filters), ``cusips`` (no action has a known CUSIP, so a
CUSIP matches none), ``limit`` (default 100, at most 1000, over all types), ``sort``
(``asc``/``desc`` by ex-date, then symbol and type), ``page_token``.

Rendering, where the data has no value Alpaca's has: ``cusip`` (and a reverse split's
``old_cusip``/``new_cusip``) is ``""``, unknown; ``special`` and ``foreign`` are false;
``process_date`` is a dividend's payable date (its ex-date when none is given) and a split's
ex-date, as Alpaca's own data has them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.replay.corporate_action_rows import CorporateAction
from connectors.replay.dates import parse_day
from connectors.replay.rest import HistoricalApi, RequestError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000
# Every type Alpaca's endpoint takes (alpaca-py's ``CorporateActionsType``).
ALPACA_TYPES = (
    "reverse_split",
    "forward_split",
    "unit_split",
    "cash_dividend",
    "stock_dividend",
    "spin_off",
    "cash_merger",
    "stock_merger",
    "stock_and_cash_merger",
    "redemption",
    "name_change",
    "worthless_removal",
    "rights_distribution",
)
# The response groups actions by type under these keys (all three always present).
GROUPS = {
    "cash_dividend": "cash_dividends",
    "forward_split": "forward_splits",
    "reverse_split": "reverse_splits",
}
_BAD_REQUEST = 40010001
_BAD_LIMIT = 42210000


@dataclass(frozen=True)
class ActionsQuery:
    """One request's filters, order and page (``None`` filters: no filter)."""

    symbols: frozenset[str] | None = None
    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    cusips: frozenset[str] | None = None
    start: date | None = None
    end: date | None = None
    limit: int = DEFAULT_LIMIT
    descending: bool = False
    page_token: str | None = None


def _names(params: Mapping[str, str], name: str) -> frozenset[str] | None:
    text = params.get(name)
    if text is None:
        return None
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _date(params: Mapping[str, str], name: str) -> date | None:
    text = params.get(name)
    if not text:
        return None
    try:
        return parse_day(text)
    except ValueError:
        message = f"invalid {name}: {text!r} (use YYYY-MM-DD)"
        raise RequestError(400, _BAD_REQUEST, message) from None


def _limit(text: str | None) -> int:
    if not text:
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        raise RequestError(400, _BAD_REQUEST, f"invalid limit {text!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise RequestError(422, _BAD_LIMIT, f"invalid limit: must be 1 to {MAX_LIMIT}")
    return limit


def parse_query(params: Mapping[str, str]) -> ActionsQuery:
    """The request's parameters, checked; a ``RequestError`` (Alpaca's codes) names a bad one."""
    types = _names(params, "types")
    unknown = sorted((types or set()) - set(ALPACA_TYPES))
    if unknown:
        message = f"invalid types: {', '.join(unknown)} (use {', '.join(ALPACA_TYPES)})"
        raise RequestError(400, _BAD_REQUEST, message)
    sort = params.get("sort") or "asc"
    if sort not in ("asc", "desc"):
        raise RequestError(400, _BAD_REQUEST, "sort must be asc or desc")
    query = ActionsQuery(
        symbols=_names(params, "symbols"),
        types=types,
        ids=_names(params, "ids"),
        cusips=_names(params, "cusips"),
        start=_date(params, "start"),
        end=_date(params, "end"),
        limit=_limit(params.get("limit")),
        descending=sort == "desc",
        page_token=params.get("page_token") or None,
    )
    others = [n for n in ("symbols", "cusips", "types", "start", "end") if params.get(n)]
    if query.ids is not None and others:
        raise RequestError(400, _BAD_REQUEST, f"ids cannot be combined with {', '.join(others)}")
    return query


def _sort_key(action: CorporateAction) -> tuple[str, str, str, str]:
    return action.ex_date.isoformat(), action.symbol, action.type, action.id


def _keeps(query: ActionsQuery, action: CorporateAction) -> bool:
    return (
        (query.symbols is None or action.symbol in query.symbols)
        and (query.types is None or action.type in query.types)
        and (query.ids is None or action.id in query.ids)
        and query.cusips is None  # no action has a known CUSIP
        and (query.start is None or action.ex_date >= query.start)
        and (query.end is None or action.ex_date <= query.end)
    )


def matching(actions: list[CorporateAction], query: ActionsQuery) -> list[CorporateAction]:
    """The actions the query asks for, in its order (all pages)."""
    kept = [a for a in actions if _keeps(query, a)]
    return sorted(kept, key=_sort_key, reverse=query.descending)


def encode_token(action: CorporateAction) -> str:
    return base64.urlsafe_b64encode(json.dumps(_sort_key(action)).encode()).decode()


def _decode_token(token: str) -> tuple[str, ...]:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != 4 or not all(isinstance(k, str) for k in key):
        raise RequestError(400, _BAD_REQUEST, "invalid page_token")
    return tuple(key)


def render(action: CorporateAction) -> dict[str, Any]:
    """One action in Alpaca's keys for its type."""
    common = {"id": action.id, "symbol": action.symbol}
    dates = {
        "ex_date": action.ex_date.isoformat(),
        "record_date": _iso(action.record_date),
        "payable_date": _iso(action.payable_date),
    }
    if action.type == "cash_dividend":
        return {
            **common,
            "cusip": "",
            "rate": action.rate,
            "special": False,
            "foreign": False,
            "process_date": (action.payable_date or action.ex_date).isoformat(),
            **dates,
        }
    cusips = {"cusip": ""} if action.type == "forward_split" else {"old_cusip": "", "new_cusip": ""}
    return {
        **common,
        **cusips,
        "new_rate": action.new_rate,
        "old_rate": action.old_rate,
        "process_date": action.ex_date.isoformat(),
        **dates,
    }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def actions_page(actions: list[CorporateAction], query: ActionsQuery) -> dict[str, Any]:
    """The response body: up to ``limit`` actions from the page token on, grouped by type, and
    the token of the next page (null on the last)."""
    ordered = matching(actions, query)
    if query.page_token:
        resume = _decode_token(query.page_token)
        if query.descending:
            ordered = [a for a in ordered if _sort_key(a) <= resume]
        else:
            ordered = [a for a in ordered if _sort_key(a) >= resume]
    page, rest = ordered[: query.limit], ordered[query.limit :]
    groups: dict[str, list[dict[str, Any]]] = {group: [] for group in GROUPS.values()}
    for action in page:
        groups[GROUPS[action.type]].append(render(action))
    return {"corporate_actions": groups, "next_page_token": encode_token(rest[0]) if rest else None}


class CorporateActionsApi:
    """``GET /v1/corporate-actions`` over the server's actions, through Alpaca's REST gate."""

    def __init__(self, alpaca: HistoricalApi) -> None:
        self.alpaca = alpaca

    def routes(self) -> list[Route]:
        return [Route("/v1/corporate-actions", self.handle, methods=["GET"])]

    async def handle(self, request: Request) -> Response:
        return self.alpaca.answer(request, self._query(request))

    def _query(self, request: Request) -> Callable[[], dict[str, Any]]:
        def query() -> dict[str, Any]:
            parsed = parse_query(request.query_params)
            return actions_page(self.alpaca.state.corporate_actions, parsed)

        return query
