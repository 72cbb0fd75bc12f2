"""One symbol's beacons, computed in plain Python: its daily closes, the index's closes on the
same days, its fundamentals, and the records they give (see ``jobs.beacons`` for what each
record means). The Flink job keeps one ``SymbolBook`` per symbol in keyed state; each input
changes the book and returns exactly the records whose values changed, so a late or restated
input rewrites the days it covers and no others.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from statistics import median

from streamlines.contracts.events import Fundamental, FundamentalFact, fundamental_conflict
from streamlines.contracts.metrics import (
    EVENT_FACTS,
    EVENT_WINDOWS,
    METRIC_VALUATION,
    event_metric,
    event_study_metric,
)
from streamlines.contracts.time import MARKET_CLOSE, new_york_ns, ns_to_datetime

Values = dict[str, float | None]
Record = tuple[str, int, Values]  # metric, t_ns, values
Keyed = dict[tuple[str, int], Values]  # (metric, t_ns) -> values
FactRow = tuple[int, float, int, float | None, int | None]  # t_ns, value, revision, estimate, end

# The trailing facts a day's valuation uses, and each ratio: (name, fact, price on top).
VALUATION_FACTS = ("earnings_ttm", "dividend_ttm", "sales_ttm", "earnings_10y")
RATIOS = (
    ("pe", "earnings_ttm", True),
    ("earnings_yield", "earnings_ttm", False),
    ("dividend_yield", "dividend_ttm", False),
    ("price_sales", "sales_ttm", True),
    ("cape", "earnings_10y", True),
)
KIND_OF_FACT = {fact: kind for kind, fact in EVENT_FACTS.items()}


def session_close_ns(bar_t_ns: int) -> int:
    """The close (16:00 New York) of the session a daily bar stands for: daily bars start at UTC
    midnight of the session's date."""
    return new_york_ns(ns_to_datetime(bar_t_ns).date(), MARKET_CLOSE)


def ratio(price: float, fact: float | None, price_on_top: bool) -> float | None:
    if fact is None:
        return None
    if price_on_top:
        return price / fact if fact != 0 else None
    return fact / price


@dataclass
class SymbolBook:
    """A symbol's inputs and the records they give. ``add_*`` take an input and note which
    records it changes; ``flush`` computes those and returns the ones whose values changed, so
    many inputs between two flushes (a backfill) give each record once."""

    symbol: str
    days: list[int] = field(default_factory=list)  # bar t_ns, ascending
    bars: dict[int, tuple[float, float]] = field(default_factory=dict)  # close, adjusted close
    index: dict[int, float] = field(default_factory=dict)  # the index's adjusted close per day
    # Per fact: (t_ns, value, revision, estimate, period_end_ns), ascending by t_ns, the latest
    # revision of each (tuples, not Fundamentals: the book is pickled into Flink state).
    facts: dict[str, list[FactRow]] = field(default_factory=dict)
    events: Keyed = field(default_factory=dict)
    studies: Keyed = field(default_factory=dict)
    dirty_days: set[int] = field(default_factory=set)
    dirty_events: bool = False

    # Inputs -----------------------------------------------------------------------------

    def add_bar(self, t_ns: int, close: float, adj_close: float) -> None:
        """A daily bar (a repeat overwrites): its valuation, and the events it moves."""
        bar = (close, adj_close)
        if self.bars.get(t_ns) == bar:
            return
        if t_ns not in self.bars:
            bisect.insort(self.days, t_ns)
        self.bars[t_ns] = bar
        self.dirty_days.add(t_ns)
        self.dirty_events = True

    def add_index_close(self, t_ns: int, adj_close: float) -> None:
        """The index's adjusted close on a day of this symbol's: it moves events only."""
        if self.index.get(t_ns) == adj_close:
            return
        self.index[t_ns] = adj_close
        self.dirty_events = True

    def add_fundamental(self, fundamental: Fundamental) -> str | None:
        """None, or why it was refused: a conflicting duplicate or a stale revision. A repeat
        changes nothing; a new value or a restatement changes the days it covers."""
        series = self.facts.setdefault(fundamental.fact, [])
        t_ns = fundamental.t_ns
        i = bisect.bisect_left(series, t_ns, key=_fact_time)
        if i < len(series) and series[i][0] == t_ns:
            known = _as_fundamental(self.symbol, fundamental.fact, series[i])
            problem = fundamental_conflict(known, fundamental)
            if problem is not None or fundamental.revision == known.revision:
                return problem
            del series[i]
        row = (t_ns, fundamental.value, fundamental.revision, fundamental.estimate,
               fundamental.period_end_ns)  # fmt: skip
        series.insert(i, row)
        if fundamental.fact in VALUATION_FACTS:
            self.dirty_days.update(self.covered_days(fundamental.fact, t_ns))
        if fundamental.fact in KIND_OF_FACT:
            self.dirty_events = True
        return None

    def flush(self) -> list[Record]:
        """The records changed since the last flush: valuations of the days noted, then the
        events and studies that changed."""
        records: list[Record] = []
        for t_ns in sorted(self.dirty_days):
            valuation = self.valuation(t_ns)
            if valuation is not None:
                records.append((METRIC_VALUATION, t_ns, valuation))
        self.dirty_days = set()
        if self.dirty_events:
            records += self.refresh_events()
            self.dirty_events = False
        return records

    # Valuation --------------------------------------------------------------------------

    def fact_at(self, fact: str, t_ns: int) -> float | None:
        """The latest value of ``fact`` valid on or before ``t_ns`` (never a later one)."""
        series = self.facts.get(fact, [])
        i = bisect.bisect_right(series, t_ns, key=_fact_time)
        return series[i - 1][1] if i else None

    def covered_days(self, fact: str, t_ns: int) -> list[int]:
        """The days a value of ``fact`` valid from ``t_ns`` covers: from ``t_ns`` to the next
        value's start."""
        series = self.facts.get(fact, [])
        nxt = bisect.bisect_right(series, t_ns, key=_fact_time)
        end = series[nxt][0] if nxt < len(series) else None
        lo = bisect.bisect_left(self.days, t_ns)
        hi = bisect.bisect_left(self.days, end) if end is not None else len(self.days)
        return self.days[lo:hi]

    def valuation(self, t_ns: int) -> Values | None:
        """The day's ratios and the facts behind them; None while no fact is known."""
        facts = {fact: self.fact_at(fact, t_ns) for fact in VALUATION_FACTS}
        if all(value is None for value in facts.values()):
            return None
        close = self.bars[t_ns][0]
        values: Values = {"close": close}
        for name, fact, price_on_top in RATIOS:
            values[name] = ratio(close, facts[fact], price_on_top)
        return values | facts

    # Events -----------------------------------------------------------------------------

    def day0(self, event_t_ns: int) -> int | None:
        """The position of the first trading day whose close is after the event."""
        # Bars start at UTC midnight and close at 16:00 New York the same date, so the first
        # candidate is the bar of the event's UTC date or the one before it.
        i = max(bisect.bisect_right(self.days, event_t_ns) - 1, 0)
        while i < len(self.days) and session_close_ns(self.days[i]) <= event_t_ns:
            i += 1
        return i if i < len(self.days) else None

    def adjusted_close(self, t_ns: int) -> float | None:
        bar = self.bars.get(t_ns)
        return bar[1] if bar is not None else None

    def window_return(
        self, p: int, first: int, last: int, close_of: Callable[[int], float | None]
    ) -> float | None:
        """close(p + last) / close(p + first - 1) - 1 over the symbol's trading days (p is day
        0's position), or None where a close is missing."""
        a, b = p + first - 1, p + last
        if a < 0 or b >= len(self.days):
            return None
        start, end = close_of(self.days[a]), close_of(self.days[b])
        if start is None or end is None:
            return None
        return end / start - 1.0

    def event_values(self, fact: FactRow, p: int) -> Values:
        adjusted = self.adjusted_close
        values: Values = {
            "event_t_ns": float(fact[0]),
            "value": fact[1],
            "estimate": fact[3],
            "move": self.window_return(p, 0, 0, adjusted),
        }
        for window, (first, last) in EVENT_WINDOWS.items():
            stock = self.window_return(p, first, last, adjusted)
            market = self.window_return(p, first, last, self.index.get)
            values[f"return_{window}"] = stock
            values[f"index_return_{window}"] = market
            values[f"abnormal_{window}"] = (
                stock - market if stock is not None and market is not None else None
            )
        return values

    def current_events(self) -> Keyed:
        """Every event record as the book stands: one per kind and day 0 (of two events of a
        kind on the same day 0, the later one)."""
        records: Keyed = {}
        for fact, kind in KIND_OF_FACT.items():
            for row in self.facts.get(fact, []):
                p = self.day0(row[0])
                if p is not None:
                    records[(event_metric(kind), self.days[p])] = self.event_values(row, p)
        return records

    def current_studies(
        self, events: dict[tuple[str, int], Values]
    ) -> dict[tuple[str, int], Values]:
        """Per kind and window, the study as of each event: over that event's abnormal return
        and every earlier one's (events whose abnormal return is not known yet are left out)."""
        studies: Keyed = {}
        for kind in KIND_OF_FACT.values():
            metric = event_metric(kind)
            dated = sorted((t, v) for (m, t), v in events.items() if m == metric)
            for window in EVENT_WINDOWS:
                abnormal: list[float] = []
                for t, values in dated:
                    value = values[f"abnormal_{window}"]
                    if value is None:
                        continue
                    abnormal.append(value)
                    studies[(event_study_metric(kind, window), t)] = study(abnormal)
        return studies

    def refresh_events(self) -> list[Record]:
        """Recompute the events and studies; the records that changed (a record that no longer
        exists, e.g. an event whose day 0 moved when an earlier bar arrived, is left as it was:
        days 0 only move while bars arrive out of order, before the first read)."""
        events = self.current_events()
        studies = self.current_studies(events)
        changed = list(_changed(self.events, events)) + list(_changed(self.studies, studies))
        self.events, self.studies = events, studies
        return changed


def study(abnormal: list[float]) -> Values:
    """count, mean, median, sample std, min, max and the t statistic of the abnormal returns."""
    n = len(abnormal)
    mean = math.fsum(abnormal) / n
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in abnormal) / (n - 1)) if n > 1 else None
    return {
        "count": float(n),
        "mean": mean,
        "median": median(abnormal),
        "std": std,
        "min": min(abnormal),
        "max": max(abnormal),
        "t_stat": mean / (std / math.sqrt(n)) if std else None,
    }


def _changed(old: Keyed, new: Keyed) -> Iterable[Record]:
    for (metric, t_ns), values in new.items():
        if old.get((metric, t_ns)) != values:
            yield metric, t_ns, values


def _fact_time(row: FactRow) -> int:
    return row[0]


def _as_fundamental(symbol: str, fact: FundamentalFact, row: FactRow) -> Fundamental:
    t_ns, value, revision, estimate, period_end_ns = row
    return Fundamental.model_construct(
        symbol=symbol, fact=fact, t_ns=t_ns, value=value, revision=revision, estimate=estimate,
        period_end_ns=period_end_ns, source="",
    )  # fmt: skip
