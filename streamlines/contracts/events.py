"""The one event schema: trades, quotes, bars and fundamentals as they travel between the
project's parts.

Wire format: one JSON object per Kafka/Kinesis record, keyed by ``symbol``. Event time is
``t_ns``, UTC nanoseconds since the epoch, taken from the source's own timestamp (Alpaca's
``t``), never from arrival time. Topic names are in ``streamlines.contracts.topics``.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from streamlines.contracts.time import ns_to_datetime
from streamlines.contracts.topics import (
    TOPIC_BARS,
    TOPIC_BARS_HISTORY,
    TOPIC_FUNDAMENTALS,
    TOPIC_PREDICTIONS,
    TOPIC_QUOTES,
    TOPIC_RIPPLES,
    TOPIC_TRADES,
)


class SchemaError(ValueError):
    """A message that does not fit the schema; ``reason`` says which field and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[str]
    topic: ClassVar[str]

    symbol: str = Field(min_length=1, max_length=32)
    t_ns: int = Field(gt=0, description="event time, UTC nanoseconds since the epoch")

    @field_validator("symbol")
    @classmethod
    def _symbol_is_upper(cls, value: str) -> str:
        if value != value.strip() or value.upper() != value:
            raise ValueError("symbol must be upper case without spaces, e.g. AAPL or BTC/USD")
        return value

    @property
    def time(self) -> datetime:
        return ns_to_datetime(self.t_ns)

    def key(self) -> bytes:
        return self.symbol.encode()

    def to_wire(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_wire(cls, payload: bytes | str) -> Self:
        try:
            return cls.model_validate_json(payload)
        except ValidationError as exc:
            raise SchemaError(_reason(cls.kind, exc)) from None

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Self:
        """Build from schema field names; raises ``SchemaError`` with the reason."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise SchemaError(_reason(cls.kind, exc)) from None


class Trade(Event):
    """A trade. Numbers must be numbers (strict: no strings, no booleans) and finite; a trade
    moves a positive size at a positive price."""

    kind: ClassVar[str] = "trade"
    topic: ClassVar[str] = TOPIC_TRADES

    price: float = Field(gt=0, allow_inf_nan=False, strict=True)
    size: float = Field(gt=0, allow_inf_nan=False, strict=True)
    trade_id: int | None = Field(default=None, strict=True)
    exchange: str | None = None
    conditions: tuple[str, ...] = ()
    tape: str | None = None


class Quote(Event):
    """A quote. A side with no order has price and size 0; with both sides quoted the bid must
    not be above the ask (a crossed quote is a broken feed: a locked one, bid = ask, happens)."""

    kind: ClassVar[str] = "quote"
    topic: ClassVar[str] = TOPIC_QUOTES

    bid_price: float = Field(ge=0, allow_inf_nan=False, strict=True)
    bid_size: float = Field(ge=0, allow_inf_nan=False, strict=True)
    ask_price: float = Field(ge=0, allow_inf_nan=False, strict=True)
    ask_size: float = Field(ge=0, allow_inf_nan=False, strict=True)
    bid_exchange: str | None = None
    ask_exchange: str | None = None
    conditions: tuple[str, ...] = ()
    tape: str | None = None

    @model_validator(mode="after")
    def _not_crossed(self) -> Quote:
        if self.bid_price > 0 and self.ask_price > 0 and self.bid_price > self.ask_price:
            raise ValueError(f"crossed quote: bid {self.bid_price} is above ask {self.ask_price}")
        return self


class Bar(Event):
    """An OHLCV bar; ``t_ns`` is the bar's start."""

    kind: ClassVar[str] = "bar"
    topic: ClassVar[str] = TOPIC_BARS

    timeframe: str = "1Min"
    open: float = Field(gt=0, allow_inf_nan=False)
    high: float = Field(gt=0, allow_inf_nan=False)
    low: float = Field(gt=0, allow_inf_nan=False)
    close: float = Field(gt=0, allow_inf_nan=False)
    volume: float = Field(ge=0, allow_inf_nan=False)
    trade_count: int | None = Field(default=None, ge=0)
    vwap: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _range_holds_open_and_close(self) -> Bar:
        if not self.low <= min(self.open, self.close) <= max(self.open, self.close) <= self.high:
            raise ValueError("a bar needs low <= open, close <= high")
        return self


class HistoryBar(Bar):
    """A gathered historical bar (``market.bars.history``): the raw bar as traded, the same bar
    adjusted for splits and dividends (Alpaca's ``adjustment=all``), and ``adj_factor`` =
    adjusted close / raw close. ``(symbol, timeframe, t_ns)`` identifies it.

    ``dividend`` (cash per share going ex on this bar) and ``split_factor`` (new shares per old
    share, effective on this bar) are None when unknown, never 0 or 1 by default: Alpaca's bars
    API does not carry them (its corporate-actions API does; see docs/gather.md).
    """

    kind: ClassVar[str] = "history bar"
    topic: ClassVar[str] = TOPIC_BARS_HISTORY

    adj_open: float = Field(gt=0, allow_inf_nan=False)
    adj_high: float = Field(gt=0, allow_inf_nan=False)
    adj_low: float = Field(gt=0, allow_inf_nan=False)
    adj_close: float = Field(gt=0, allow_inf_nan=False)
    adj_volume: float = Field(ge=0, allow_inf_nan=False)
    adj_factor: float = Field(gt=0, allow_inf_nan=False)
    dividend: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    split_factor: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _adjusted_range_holds_open_and_close(self) -> HistoryBar:
        body = (self.adj_open, self.adj_close)
        if not self.adj_low <= min(body) <= max(body) <= self.adj_high:
            raise ValueError("an adjusted bar needs adj_low <= adj_open, adj_close <= adj_high")
        return self


class AnalyticsRecord(Event):
    """One result of an analytics job (``analytics.*`` topics): a metric of a symbol at a time.

    ``t_ns`` is deterministic (a window's end or the triggering event's time), so
    ``(symbol, metric, t_ns)`` identifies the record and a rewrite overwrites it.
    """

    kind: ClassVar[str] = "analytics record"
    topic: ClassVar[str] = TOPIC_RIPPLES

    metric: str = Field(min_length=1, max_length=64)
    values: dict[str, float | int | None]


class Prediction(Event):
    """A model's prediction for a symbol at a bar (``analytics.predictions``): ``t_ns`` is the
    bar's start (the features' time), so ``(symbol, model_id, t_ns)`` identifies it and a re-run
    overwrites it. ``value`` is the probability of a positive forward return (classification)
    or the predicted forward log return (regression) over ``horizon`` bars."""

    kind: ClassVar[str] = "prediction"
    topic: ClassVar[str] = TOPIC_PREDICTIONS

    model_id: str = Field(min_length=1, max_length=128)
    timeframe: str = Field(min_length=1, max_length=16)
    horizon: int = Field(ge=1)
    value: float = Field(allow_inf_nan=False)


# What a fundamental's ``value`` is, per ``fact`` (money is per share, in the listing's currency):
# - earnings_ttm: earnings per share over the trailing twelve months (may be negative);
# - dividend_ttm: dividends per share over the trailing twelve months (>= 0);
# - sales_ttm: sales (revenue) per share over the trailing twelve months (>= 0);
# - shares_outstanding: the number of shares outstanding (> 0);
# - earnings_10y: Shiller's E10, the ten-year average of inflation-adjusted earnings per share,
#   in the dollars of ``t_ns`` (close / earnings_10y is the cyclically adjusted P/E, CAPE);
# - earnings_announcement: the EPS reported at the announcement (may be negative), with the
#   consensus in ``estimate`` when known; ``t_ns`` = when it was made public (after the close:
#   16:00 New York time on its date, so the market reacts the next trading day);
# - dividend: cash per share going ex on ``t_ns`` (>= 0);
# - split: new shares per old share, effective on ``t_ns`` (> 0; 2.0 for a 2-for-1 split).
FundamentalFact = Literal[
    "earnings_ttm",
    "dividend_ttm",
    "earnings_10y",
    "sales_ttm",
    "shares_outstanding",
    "earnings_announcement",
    "dividend",
    "split",
]
FUNDAMENTAL_FACTS: tuple[str, ...] = get_args(FundamentalFact)
_NOT_NEGATIVE = frozenset({"dividend_ttm", "sales_ttm", "dividend"})
_POSITIVE = frozenset({"shares_outstanding", "split", "earnings_10y"})


class Fundamental(Event):
    """One fundamental fact of a symbol (``market.fundamentals``): ``fact`` says what ``value``
    is (``FundamentalFact`` above lists the closed set and each one's unit). ``t_ns`` is the
    time the value becomes valid (event time: an announcement's date, a split's effective
    date, the time a figure was published), so a replay never sees a value before it was
    known; ``period_end_ns`` is the end of the fiscal period the figure covers, when it has one,
    and is never after ``t_ns``. ``source`` names where the value came from (e.g. ``shiller``,
    ``HistoricalEarningsData``).

    ``(symbol, fact, t_ns)`` identifies the record, so a rewrite overwrites it. ``revision``
    numbers restatements: a record for the same key with a higher revision replaces the earlier
    one (a restated figure); the same revision again with the same value is a harmless repeat
    (a re-gather); the same revision with a different value, or a lower one, is a conflict this
    schema cannot see (it needs the first record): that check is the consuming job's, with its
    state (``fundamental_conflict``). ``fundamental_problem``
    adds the check that needs the current time (nothing valid from the future).
    """

    kind: ClassVar[str] = "fundamental"
    topic: ClassVar[str] = TOPIC_FUNDAMENTALS

    fact: FundamentalFact
    value: float = Field(allow_inf_nan=False)
    source: str = Field(min_length=1, max_length=64)
    estimate: float | None = Field(default=None, allow_inf_nan=False)
    period_end_ns: int | None = Field(default=None, gt=0)
    revision: int = Field(default=0, ge=0, description="0 = as first published; +1 a restatement")

    @model_validator(mode="after")
    def _value_fits_the_fact(self) -> Fundamental:
        if self.fact in _POSITIVE and not self.value > 0:
            raise ValueError(f"value of {self.fact} must be positive, got {self.value}")
        if self.fact in _NOT_NEGATIVE and self.value < 0:
            raise ValueError(f"value of {self.fact} must not be negative, got {self.value}")
        if self.period_end_ns is not None and self.period_end_ns > self.t_ns:
            raise ValueError(
                "period_end_ns is after t_ns: a figure is valid only once its period ends"
            )
        return self


def fundamental_problem(payload: bytes | str, now_ns: int) -> str | None:
    """Why the wire record ``payload`` is not a valid fundamental at ``now_ns`` (UTC
    nanoseconds), or None when it is: the schema's reason (a missing or unknown field, a
    non-finite value, a negative share count, ...) or a ``t_ns`` in the future. Pure, for the
    dead-letter path: the reason goes with the record to ``dead_letter_topic(TOPIC_FUNDAMENTALS)``.
    """
    try:
        fundamental = Fundamental.from_wire(payload)
    except SchemaError as exc:
        return exc.reason
    if fundamental.t_ns > now_ns:
        return f"invalid fundamental: t_ns: {fundamental.t_ns} is after now ({now_ns})"
    return None


def fundamental_conflict(known: Fundamental, new: Fundamental) -> str | None:
    """Why ``new`` may not replace ``known`` (the same symbol, fact and ``t_ns``), or None when
    it may: a higher revision restates the figure; the same revision must repeat it exactly."""
    if new.revision > known.revision:
        return None
    if new.revision < known.revision:
        return (
            f"stale fundamental: {new.fact} of {new.symbol} at t_ns {new.t_ns} is revision "
            f"{new.revision}, revision {known.revision} is already known"
        )
    if (new.value, new.estimate, new.period_end_ns) != (
        known.value,
        known.estimate,
        known.period_end_ns,
    ):
        return (
            f"conflicting duplicate: {new.fact} of {new.symbol} at t_ns {new.t_ns} revision "
            f"{new.revision} is {new.value}, already known as {known.value} (send a restatement "
            "with a higher revision)"
        )
    return None


def _reason(kind: str, exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "message"
        parts.append(f"{where}: {error['msg']}")
    return f"invalid {kind}: " + "; ".join(parts)
