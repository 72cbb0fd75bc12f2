"""Alpaca's corporate actions (``GET /v1/corporate-actions``, alpaca-py's
``CorporateActionsClient`` with ``raw_data=True``) as plain values, and what they make of daily
bars: the cash going ex and the split ratio effective on each bar's day.

Only the three kinds that change a per-share price are read: cash dividends, forward splits and
reverse splits. The fetching client is ``connectors.gather.client.BarClient.corporate_actions``
(the same endpoints, keys and retries as the bars); this module is pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from streamlines.contracts.events import HistoryBar
from streamlines.contracts.time import ns_to_datetime

ActionType = Literal["cash_dividend", "forward_split", "reverse_split"]
ACTION_TYPES: tuple[ActionType, ...] = ("cash_dividend", "forward_split", "reverse_split")
# The key of each kind in the API's ``corporate_actions`` object.
_GROUPS: dict[str, ActionType] = {
    "cash_dividends": "cash_dividend",
    "forward_splits": "forward_split",
    "reverse_splits": "reverse_split",
}


@dataclass(frozen=True)
class CorporateAction:
    """One action of ``symbol`` going ex on ``ex_date``: ``value`` is the cash per share of a
    dividend, or new shares per old share of a split (below 1 for a reverse split)."""

    symbol: str
    type: ActionType
    ex_date: date
    value: float

    @property
    def is_split(self) -> bool:
        return self.type != "cash_dividend"


def parse_actions(raw: dict[str, Any]) -> list[CorporateAction]:
    """The actions of an API answer (``{"cash_dividends": [...], "forward_splits": [...],
    ...}``), by ex date. Raises ``ValueError`` on a row without the fields its kind needs:
    a half-read set of actions would silently say "no dividend" on a day that had one."""
    actions = []
    for group, kind in _GROUPS.items():
        for row in raw.get(group) or []:
            try:
                ex_date = date.fromisoformat(str(row["ex_date"]))
                if kind == "cash_dividend":
                    value = float(row["rate"])
                else:
                    value = float(row["new_rate"]) / float(row["old_rate"])
                actions.append(CorporateAction(str(row["symbol"]), kind, ex_date, value))
            except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
                raise ValueError(f"unreadable {kind} {row!r}: {exc!r}") from None
    return sorted(actions, key=lambda a: (a.ex_date, a.symbol, a.type))


def by_day(actions: Iterable[CorporateAction]) -> dict[date, tuple[float, float]]:
    """``ex date -> (dividend, split factor)``: dividends of a day add up, splits multiply."""
    days: dict[date, tuple[float, float]] = {}
    for action in actions:
        dividend, split = days.get(action.ex_date, (0.0, 1.0))
        if action.is_split:
            split *= action.value
        else:
            dividend += action.value
        days[action.ex_date] = (dividend, split)
    return days


def with_corporate_actions(
    bars: list[HistoryBar], actions: Iterable[CorporateAction]
) -> list[HistoryBar]:
    """Daily ``bars`` with ``dividend`` and ``split_factor`` known: the actions going ex on the
    bar's day, 0.0 and 1.0 on a day without. A daily bar's day is the UTC date of its start
    (Alpaca starts it at midnight New York, 04:00 or 05:00 UTC; the replay server at 00:00
    UTC: the same date either way)."""
    days = by_day(actions)
    out = []
    for bar in bars:
        day = ns_to_datetime(bar.t_ns).date()
        dividend, split = days.get(day, (0.0, 1.0))
        out.append(bar.model_copy(update={"dividend": dividend, "split_factor": split}))
    return out
