"""Provider rows -> would-be ``Fundamental`` records, with the rules for when each became known
(``t_ns``). Pure: the service validates every record (``fundamental_problem``) before it is
written, and dead-letters what does not pass.

- The index's monthly series (Nasdaq Data Link ``MULTPL/*``, Shiller's data): ``t_ns`` = the
  row's date (the first of the month) at 00:00 UTC plus the publication lag in days.
  ``earnings_10y`` = that month's price / CAPE (Shiller's E10 in that month's dollars).
- Earnings announcements (``ZACKS/EA``): ``t_ns`` = when the figure was made public, from
  ``act_rpt_code`` on ``act_rpt_date`` in New York time: ``AMC`` (after market close) 16:00,
  ``BTO`` (before the open) 08:00, ``DMT`` (during market) 12:00, none or unknown 00:00 (so the
  same trading day reacts, the cautious reading).
- Alpaca's corporate actions: ``t_ns`` = the ex date at 00:00 New York.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from connectors.gather.corporate_actions import CorporateAction
from streamlines.contracts.time import MARKET_CLOSE, datetime_to_ns, new_york_ns

Record = dict[str, Any]

EARNINGS_DATASET = "MULTPL/SP500_EARNINGS_MONTH"
DIVIDEND_DATASET = "MULTPL/SP500_DIV_MONTH"
CAPE_DATASET = "MULTPL/SHILLER_PE_RATIO_MONTH"
PRICE_DATASET = "MULTPL/SP500_REAL_PRICE_MONTH"
INDEX_DATASETS = (EARNINGS_DATASET, DIVIDEND_DATASET, CAPE_DATASET, PRICE_DATASET)
INDEX_SOURCE = "MULTPL"

ANNOUNCEMENTS_TABLE = "ZACKS/EA"
ANNOUNCEMENT_COLUMNS = ("ticker", "per_end_date", "per_type", "act_rpt_date", "act_rpt_code",
                        "eps_mean_est", "eps_act")  # fmt: skip
# When on its date (New York time) an announcement was public, by Zacks' act_rpt_code.
ANNOUNCEMENT_TIMES = {"AMC": MARKET_CLOSE, "BTO": time(8), "DMT": time(12)}
ANNOUNCEMENT_UNKNOWN_TIME = time(0)

CORPORATE_ACTIONS_SOURCE = "alpaca"


@dataclass(frozen=True)
class Candidate:
    """A would-be fundamental: ``record`` (its fields), or ``problem`` (why none could be
    made). ``raw`` is what it came from (kept with a dead letter); ``where`` names it in reports
    (``ZACKS/EA 2004-10-21``, ``row 7``)."""

    where: str
    raw: Any
    record: Record | None
    problem: str | None = None


def utc_midnight_ns(day: date) -> int:
    return datetime_to_ns(datetime.combine(day, time(0), UTC))


def index_t_ns(day: date, lag_days: int) -> int:
    return utc_midnight_ns(day + timedelta(days=lag_days))


def announcement_t_ns(day: date, code: str | None) -> int:
    at = ANNOUNCEMENT_TIMES.get((code or "").strip().upper(), ANNOUNCEMENT_UNKNOWN_TIME)
    return new_york_ns(day, at)


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _series_candidates(
    symbol: str, code: str, fact: str, rows: Iterable[tuple[str, Any]], lag_days: int
) -> list[Candidate]:
    out = []
    for text, value in rows:
        where = f"{code} {text}"
        raw = {"dataset": code, "date": text, "value": value}
        day = _day(text)
        if day is None:
            out.append(Candidate(where, raw, None, f"date {text!r} is not YYYY-MM-DD"))
            continue
        record = {"symbol": symbol, "t_ns": index_t_ns(day, lag_days), "fact": fact,
                  "value": value, "source": INDEX_SOURCE}  # fmt: skip
        out.append(Candidate(where, raw, record))
    return out


def _e10_candidates(
    symbol: str, prices: Iterable[tuple[str, Any]], capes: Iterable[tuple[str, Any]], lag: int
) -> list[Candidate]:
    """``earnings_10y`` = price / CAPE of the months both series have (CAPE needs ten years of
    earnings: none before 1881, nor after the last earnings)."""
    cape_of = {text: cape for text, cape in capes}
    e10 = []
    for text, price in prices:
        cape = cape_of.get(text)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (price, cape))
        if numbers and cape:
            e10.append((text, price / cape))
    return _series_candidates(symbol, f"{PRICE_DATASET} / {CAPE_DATASET}", "earnings_10y", e10,
                              lag)  # fmt: skip


def index_candidates(
    symbol: str, series: dict[str, list[tuple[str, Any]]], lag_days: int
) -> list[Candidate]:
    """The index's ``earnings_ttm``, ``dividend_ttm`` and ``earnings_10y`` from the four MULTPL
    series (``series``: dataset code -> its ``(date, value)`` rows)."""
    return [
        *_series_candidates(symbol, EARNINGS_DATASET, "earnings_ttm",
                            series.get(EARNINGS_DATASET, []), lag_days),
        *_series_candidates(symbol, DIVIDEND_DATASET, "dividend_ttm",
                            series.get(DIVIDEND_DATASET, []), lag_days),
        *_e10_candidates(symbol, series.get(PRICE_DATASET, []), series.get(CAPE_DATASET, []),
                         lag_days),
    ]  # fmt: skip


def announcement_candidates(symbol: str, rows: Iterable[Record]) -> list[Candidate]:
    """``earnings_announcement`` of ``symbol`` from ``ZACKS/EA`` rows: value ``eps_act``,
    estimate ``eps_mean_est``, ``period_end_ns`` from ``per_end_date`` (00:00 UTC) when given.
    A row without ``eps_act`` is an announcement still to come: left out."""
    out = []
    for row in rows:
        if row.get("eps_act") is None:
            continue
        text = row.get("act_rpt_date")
        where = f"{ANNOUNCEMENTS_TABLE} {symbol} {text}"
        day = _day(text)
        if day is None:
            out.append(Candidate(where, row, None, f"act_rpt_date {text!r} is not YYYY-MM-DD"))
            continue
        record: Record = {"symbol": symbol, "fact": "earnings_announcement",
                          "t_ns": announcement_t_ns(day, row.get("act_rpt_code")),
                          "value": row["eps_act"], "source": ANNOUNCEMENTS_TABLE}  # fmt: skip
        if row.get("eps_mean_est") is not None:
            record["estimate"] = row["eps_mean_est"]
        period_end = row.get("per_end_date")
        if period_end is not None:
            end_day = _day(period_end)
            if end_day is None:
                problem = f"per_end_date {period_end!r} is not YYYY-MM-DD"
                out.append(Candidate(where, row, None, problem))
                continue
            record["period_end_ns"] = utc_midnight_ns(end_day)
        out.append(Candidate(where, row, record))
    return out


def corporate_action_candidates(symbol: str, actions: Iterable[CorporateAction]) -> list[Candidate]:
    """``dividend`` (cash per share) and ``split`` (new / old shares, reverse splits too) of
    ``symbol``, valid from the ex date at 00:00 New York."""
    out = []
    for action in actions:
        fact = "split" if action.is_split else "dividend"
        record = {"symbol": symbol, "fact": fact, "value": action.value,
                  "t_ns": new_york_ns(action.ex_date, time(0)),
                  "source": CORPORATE_ACTIONS_SOURCE}  # fmt: skip
        raw = {"symbol": action.symbol, "type": action.type,
               "ex_date": action.ex_date.isoformat(), "value": action.value}  # fmt: skip
        out.append(Candidate(f"{action.type} {symbol} {action.ex_date}", raw, record))
    return out
