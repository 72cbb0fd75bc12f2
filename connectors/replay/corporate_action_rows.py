"""The corporate actions the replay server serves on Alpaca's ``/v1/corporate-actions``: rows
given by the user, checked.

None are built in, because the real data sets have none to give: GOOG (2004-2013) paid no
dividend and made no split in those years (its 2014 share-class split and its first dividend,
2024, came later), SP500 and NASDAQ are indices, EUR/USD and BTC/USD are not shares. So the
server serves what it is given: a CSV file (``streamlines replay serve --corporate-actions
FILE``) or a JSON list (``POST /control/corporate-actions``), with the columns ``symbol, type,
ex_date, rate, new_rate, old_rate, record_date, payable_date``; ``type`` is ``cash_dividend``
(``rate`` = cash per share) or ``forward_split``/``reverse_split`` (``new_rate`` shares after
for ``old_rate`` shares before: 4 and 1 for a 4-for-1 split, 1 and 10 for a 1-for-10 reverse
split). Dates are ``YYYY-MM-DD``; record and payable dates are optional.
"""

from __future__ import annotations

import csv
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from connectors.replay.dates import parse_day

ACTION_TYPES = ("cash_dividend", "forward_split", "reverse_split")
COLUMNS = (
    "symbol",
    "type",
    "ex_date",
    "rate",
    "new_rate",
    "old_rate",
    "record_date",
    "payable_date",
)
REQUIRED_COLUMNS = ("symbol", "type", "ex_date")
# Any fixed namespace does: the ids only have to be UUIDs (alpaca-py parses them as such) and
# the same for the same action on every run.
_ID_NAMESPACE = uuid.UUID("5f0c1f8e-4a8e-4c4e-9a57-7265706c6179")


class CorporateActionError(ValueError):
    """Rows that cannot be served; the message names each bad row and what is wrong with it."""


@dataclass(frozen=True, order=True)
class CorporateAction:
    """One action. Field order is the serving order: by ex-date, then symbol and type."""

    ex_date: date
    symbol: str
    type: str
    rate: float | None = None  # cash per share (cash_dividend)
    new_rate: float | None = None  # shares after ... (splits)
    old_rate: float | None = None  # ... for this many before
    record_date: date | None = None
    payable_date: date | None = None

    @property
    def id(self) -> str:
        """A UUID made from the action itself: the same action has the same id every run."""
        return str(uuid.uuid5(_ID_NAMESPACE, "|".join(map(str, astuple(self)))))

    def as_row(self) -> dict[str, Any]:
        """The action in the input's columns (JSON-ready), as it would be given."""
        return {
            "symbol": self.symbol,
            "type": self.type,
            "ex_date": self.ex_date.isoformat(),
            "rate": self.rate,
            "new_rate": self.new_rate,
            "old_rate": self.old_rate,
            "record_date": _iso(self.record_date),
            "payable_date": _iso(self.payable_date),
        }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    if _blank(value) or not isinstance(value, str):
        raise CorporateActionError(f"{name} is missing")
    return value.strip()


def _day(row: Mapping[str, Any], name: str) -> date | None:
    value = row.get(name)
    if _blank(value):
        return None
    try:
        return parse_day(str(value).strip())
    except ValueError:
        raise CorporateActionError(f"{name} {value!r} is not a date: use YYYY-MM-DD") from None


def _positive(row: Mapping[str, Any], name: str, kind: str) -> float:
    value = row.get(name)
    if value is None or _blank(value):
        raise CorporateActionError(f"{name} is missing (a {kind} needs it)")
    try:
        number = float(value) if isinstance(value, str | int | float) else math.nan
    except ValueError:
        number = math.nan
    if isinstance(value, bool):  # JSON true is not a rate
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise CorporateActionError(f"{name} {value!r} is not a positive number")
    return number


def parse_action(row: Mapping[str, Any]) -> CorporateAction:
    """One row (CSV strings or JSON values; blank or null = not given) as an action."""
    if None in row:  # what csv does with fields past the header's
        raise CorporateActionError("more fields than the header has columns")
    unknown = sorted(str(name) for name in row if name not in COLUMNS)
    if unknown:
        raise CorporateActionError(
            f"unknown column(s) {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}"
        )
    symbol = _text(row, "symbol")
    kind = _text(row, "type")
    if kind not in ACTION_TYPES:
        raise CorporateActionError(f"type {kind!r} is not one of {', '.join(ACTION_TYPES)}")
    ex_date = _day(row, "ex_date")
    if ex_date is None:
        raise CorporateActionError("ex_date is missing")
    record_date, payable_date = _day(row, "record_date"), _day(row, "payable_date")
    if kind == "cash_dividend":
        rate = _positive(row, "rate", kind)
        return CorporateAction(
            ex_date,
            symbol,
            kind,
            rate=rate,
            record_date=record_date,
            payable_date=payable_date,
        )
    new_rate = _positive(row, "new_rate", kind)
    old_rate = _positive(row, "old_rate", kind)
    if kind == "forward_split" and not new_rate > old_rate:
        raise CorporateActionError(
            "a forward split gives more shares: new_rate > old_rate (4 and 1 for 4-for-1)"
        )
    if kind == "reverse_split" and not new_rate < old_rate:
        raise CorporateActionError(
            "a reverse split gives fewer shares: new_rate < old_rate (1 and 10 for 1-for-10)"
        )
    return CorporateAction(
        ex_date,
        symbol,
        kind,
        new_rate=new_rate,
        old_rate=old_rate,
        record_date=record_date,
        payable_date=payable_date,
    )


def parse_actions(
    rows: Iterable[Mapping[str, Any]], first: int = 1, label: str = "row"
) -> list[CorporateAction]:
    """All ``rows`` as actions, or a ``CorporateActionError`` naming every bad one (``label``
    and its number, counted from ``first``) and every row that repeats an earlier one."""
    actions: list[CorporateAction] = []
    seen: dict[CorporateAction, int] = {}
    problems: list[str] = []
    for number, row in enumerate(rows, start=first):
        try:
            action = parse_action(row)
        except CorporateActionError as exc:
            problems.append(f"{label} {number}: {exc}")
            continue
        if action in seen:
            problems.append(f"{label} {number}: repeats {label} {seen[action]}")
            continue
        seen[action] = number
        actions.append(action)
    if problems:
        raise CorporateActionError("; ".join(problems))
    return actions


def read_actions_csv(path: Path) -> list[CorporateAction]:
    """The actions of a CSV file with a header row (lines are numbered as in the file)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CorporateActionError(
                    f"{path}: the header has no {', '.join(missing)} column; "
                    f"the columns are {', '.join(COLUMNS)}"
                )
            rows = list(reader)
    except OSError as exc:
        raise CorporateActionError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CorporateActionError(f"{path} is not a UTF-8 text (CSV) file") from None
    try:
        return parse_actions(rows, first=2, label="line")
    except CorporateActionError as exc:
        raise CorporateActionError(f"{path}: {exc}") from None
