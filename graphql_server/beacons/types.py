"""The GraphQL types of the beacons job's results (see ``jobs/beacons``): valuation ratios as
columns, corporate events with the stock's and the index's moves over each window, event studies,
and the job's records as they arrive live.

Every record's ``t_ns`` is a daily bar's start: midnight of the session's date (UTC, or New York
for Alpaca's bars), so its UTC date is the session's date."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from graphql_server.flux import Row
from graphql_server.scalars import BigInt
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.metrics import (
    EVENT_WINDOWS,
    METRIC_VALUATION,
    event_metric,
    event_study_metric,
)
from streamlines.contracts.time import ns_to_datetime


@strawberry.enum(description="The kind of a corporate event (from the symbol's fundamentals).")
class EventKind(Enum):
    EARNINGS = "earnings"  # an earnings announcement
    DIVIDEND = "dividend"  # a cash dividend going ex
    SPLIT = "split"  # a split (or reverse split) taking effect

    @property
    def metric(self) -> str:
        return event_metric(self.value)


@strawberry.enum(description="An event window in trading days around the reaction day 0.")
class EventWindow(Enum):
    DAY0_TO_1 = "0_1"  # day 0 to day +1
    DAY_MINUS1_TO_5 = "m1_5"  # day -1 to day +5

    @property
    def days(self) -> tuple[int, int]:
        """The first and last trading day of the window, relative to day 0."""
        return EVENT_WINDOWS[self.value]


def study_metric(kind: EventKind, window: EventWindow) -> str:
    return event_study_metric(kind.value, window.value)


# Every metric the beacons job writes, and the (kind, window) of each study metric.
STUDY_METRICS = {study_metric(k, w): (k, w) for k in EventKind for w in EventWindow}
EVENT_METRICS = {k.metric: k for k in EventKind}
BEACON_METRICS = (METRIC_VALUATION, *EVENT_METRICS, *STUDY_METRICS)


def session_date(t_ns: int) -> dt.date:
    """The session date of a daily bar's time (its UTC date: see the module's docstring)."""
    return ns_to_datetime(t_ns).date()


def _float(values: dict[str, Any], name: str) -> float | None:
    value = values.get(name)
    return None if value is None else float(value)


# The stored value names of the valuation, in the order of ValuationData's columns.
VALUATION_COLUMNS = ("close", "pe", "earnings_yield", "dividend_yield", "price_sales", "cape",
                     "earnings_ttm", "dividend_ttm", "sales_ttm", "earnings_10y")  # fmt: skip


@strawberry.type(
    description="Valuation ratios as columns: entry i of every list belongs to the session at "
    "date[i]. A ratio is null while the fundamental it needs is unknown; the facts are the "
    "latest known at that session (trailing twelve months per share; earnings10y is Shiller's "
    "E10, the ten-year average of real earnings)."
)
class ValuationData:
    date: list[dt.date] = strawberry.field(description="The session's date.")
    t_ns: list[BigInt] = strawberry.field(description="The daily bar's start, UTC nanoseconds.")
    close: list[float | None] = strawberry.field(description="The close as traded.")
    pe: list[float | None] = strawberry.field(description="close / earningsTtm.")
    earnings_yield: list[float | None] = strawberry.field(description="earningsTtm / close.")
    dividend_yield: list[float | None] = strawberry.field(description="dividendTtm / close.")
    price_sales: list[float | None] = strawberry.field(description="close / salesTtm.")
    cape: list[float | None] = strawberry.field(description="close / earnings10y.")
    earnings_ttm: list[float | None]
    dividend_ttm: list[float | None]
    sales_ttm: list[float | None]
    earnings_10y: list[float | None]

    @classmethod
    def from_rows(cls, rows: list[Row]) -> ValuationData:
        columns = {name: [_float(row.values, name) for row in rows] for name in VALUATION_COLUMNS}
        return cls(
            date=[session_date(row.t_ns) for row in rows],
            t_ns=[BigInt(row.t_ns) for row in rows],
            **columns,
        )


@strawberry.type(description="The valuation of one symbol per trading day, oldest first.")
class Valuation:
    symbol: str
    data: ValuationData


@strawberry.type(
    description="The moves over one event window: from the adjusted close of the day before "
    "fromDay to the adjusted close of toDay (days relative to day 0). Null until the bars it "
    "needs exist."
)
class EventWindowMove:
    window: EventWindow
    from_day: int
    to_day: int
    return_: float | None = strawberry.field(name="return", description="The stock's return.")
    index_return: float | None = strawberry.field(
        description="The index's return over the same days (STREAMLINES_INDEX_SYMBOL)."
    )
    abnormal: float | None = strawberry.field(description="return - indexReturn.")

    @classmethod
    def from_values(cls, window: EventWindow, values: dict[str, Any]) -> EventWindowMove:
        first, last = window.days
        return cls(
            window=window,
            from_day=first,
            to_day=last,
            return_=_float(values, f"return_{window.value}"),
            index_return=_float(values, f"index_return_{window.value}"),
            abnormal=_float(values, f"abnormal_{window.value}"),
        )


@strawberry.type(
    description="A corporate event and how the stock moved around it. Day 0 is the reaction "
    "day: the first trading day whose close (16:00 New York) is after the event was made "
    "public (an announcement after the close reacts the next day)."
)
class CorporateEvent:
    symbol: str
    kind: EventKind
    day0: dt.date = strawberry.field(description="Day 0's session date.")
    t_ns: BigInt = strawberry.field(description="Day 0's daily bar start (the record's key).")
    event_time: dt.datetime | None = strawberry.field(
        description="When the event was made public (announcement) or took effect (ex date)."
    )
    value: float | None = strawberry.field(
        description="The reported EPS, the dividend per share, or the split ratio (new shares "
        "per old share)."
    )
    estimate: float | None = strawberry.field(
        description="The consensus EPS estimate (earnings), when known."
    )
    move: float | None = strawberry.field(
        description="Day 0's return: adjusted close(day 0) / adjusted close(day -1) - 1."
    )
    windows: list[EventWindowMove] = strawberry.field(description="Every window, in order.")

    @classmethod
    def from_row(cls, row: Row) -> CorporateEvent:
        values = row.values
        event_ns = values.get("event_t_ns")
        return cls(
            symbol=row.symbol,
            kind=EVENT_METRICS[row.metric],
            day0=session_date(row.t_ns),
            t_ns=BigInt(row.t_ns),
            # a float in the record: exact for whole seconds, close enough otherwise
            event_time=None if event_ns is None else ns_to_datetime(round(event_ns)),
            value=_float(values, "value"),
            estimate=_float(values, "estimate"),
            move=_float(values, "move"),
            windows=[EventWindowMove.from_values(w, values) for w in EventWindow],
        )


@strawberry.type(
    description="An event study as of one event: the statistics of the abnormal returns of the "
    "symbol's events of the kind up to and including that one (events whose abnormal return "
    "is not known yet are left out)."
)
class EventStudyPoint:
    as_of: dt.date = strawberry.field(description="Day 0 of the latest event it includes.")
    t_ns: BigInt = strawberry.field(description="asOf's daily bar start (the record's key).")
    count: int = strawberry.field(description="Events included.")
    mean: float | None
    median: float | None
    std: float | None = strawberry.field(description="Sample standard deviation (null for one).")
    min: float | None
    max: float | None
    t_stat: float | None = strawberry.field(
        description="mean / (std / sqrt(count)); null when std is null or 0."
    )

    @staticmethod
    def fields_of(row: Row) -> dict[str, Any]:
        values = row.values
        return {
            "as_of": session_date(row.t_ns),
            "t_ns": BigInt(row.t_ns),
            "count": int(values.get("count", 0)),
            **{k: _float(values, k) for k in ("mean", "median", "std", "min", "max", "t_stat")},
        }

    @classmethod
    def from_row(cls, row: Row) -> EventStudyPoint:
        return cls(**cls.fields_of(row))


@strawberry.type(
    description="The latest event study of a symbol, event kind and window (its statistics "
    "as of the latest event with a known abnormal return), and, when asked for, every earlier "
    "one."
)
class EventStudy(EventStudyPoint):
    symbol: str
    kind: EventKind
    window: EventWindow
    from_day: int
    to_day: int
    history: list[EventStudyPoint] | None = strawberry.field(
        default=None,
        description="The study as of each event, oldest first (the last is this one); null "
        "unless asked for with history: true.",
    )

    @classmethod
    def from_rows(
        cls, symbol: str, kind: EventKind, window: EventWindow, latest_first: list[Row],
        history: bool,
    ) -> EventStudy | None:  # fmt: skip
        """The study from its records, latest first (None without any); ``history``: all of
        them as the history, else only the latest is needed."""
        if not latest_first:
            return None
        first, last = window.days
        return cls(
            symbol=symbol,
            kind=kind,
            window=window,
            from_day=first,
            to_day=last,
            history=[EventStudyPoint.from_row(r) for r in reversed(latest_first)]
            if history
            else None,
            **EventStudyPoint.fields_of(latest_first[0]),
        )


@strawberry.type(
    description="One record of the beacons job as it publishes it (a later record of the same "
    "symbol, metric and tNs replaces an earlier one). event and study read it as a corporate "
    "event or an event study when it is one."
)
class BeaconRecord:
    symbol: str
    metric: str = strawberry.field(
        description="valuation_1Day, event_<kind> or event_study_<kind>_<window>."
    )
    t_ns: BigInt = strawberry.field(description="The daily bar start it belongs to.")
    time: dt.datetime
    values: JSON = strawberry.field(description="Every value of the record, as the job wrote it.")

    @strawberry.field(description="One value of `values`; null when the record lacks it.")
    def value(self, name: str) -> float | None:
        return _float(cast("dict[str, Any]", self.values), name)

    @strawberry.field(description="The record as a corporate event; null unless it is one.")
    def event(self) -> CorporateEvent | None:
        if self.metric not in EVENT_METRICS:
            return None
        return CorporateEvent.from_row(self._row())

    @strawberry.field(description="The record as an event study; null unless it is one.")
    def study(self) -> EventStudy | None:
        found = STUDY_METRICS.get(self.metric)
        if found is None:
            return None
        kind, window = found
        return EventStudy.from_rows(self.symbol, kind, window, [self._row()], history=False)

    def _row(self) -> Row:
        values = {k: v for k, v in cast("dict[str, Any]", self.values).items() if v is not None}
        return Row(t_ns=int(self.t_ns), symbol=self.symbol, values=values, metric=self.metric)

    @classmethod
    def from_record(cls, record: AnalyticsRecord) -> BeaconRecord:
        return cls(
            symbol=record.symbol,
            metric=record.metric,
            t_ns=BigInt(record.t_ns),
            time=ns_to_datetime(record.t_ns),
            values=JSON(dict(record.values)),
        )
