"""The beacons book on real data against pandas (``tests/references/beacons.py``): the S&P 500's
valuation from Shiller's monthly series over 1999-2018, GOOG's earnings reactions 2004-2013
against the S&P 500, restatements, conflicts and out-of-order input."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from jobs.beacons.book import SymbolBook, session_close_ns, study
from streamlines.contracts.events import Fundamental
from streamlines.contracts.metrics import METRIC_VALUATION, event_metric, event_study_metric
from streamlines.datasets import earnings_dates, load_daily_bars, shiller_monthly
from tests.references import beacons as reference
from tests.references.compare import assert_close

NEW_YORK = ZoneInfo("America/New_York")


def _ns(stamp: pd.Timestamp) -> int:
    return int(stamp.value)


@cache
def _shiller_facts() -> dict[str, pd.Series]:
    monthly = shiller_monthly().loc["1998-01-01":"2018-12-01"]
    return {
        "earnings_ttm": monthly["earnings"].dropna(),
        "dividend_ttm": monthly["dividend"].dropna(),
        "earnings_10y": (monthly["sp500"] / monthly["cape"]).dropna(),
    }


def _fundamental(symbol: str, fact: str, t_ns: int, value: float, **extra: object) -> Fundamental:
    return Fundamental.model_validate(
        {"symbol": symbol, "fact": fact, "t_ns": t_ns, "value": value, "source": "test"} | extra
    )


def _sp500_book(
    facts_first: bool, flush_often: bool = False
) -> tuple[SymbolBook, dict[tuple[str, int], dict]]:
    """The S&P 500's book fed its daily bars and Shiller's facts; the last record per key."""
    bars = load_daily_bars("SP500")
    book = SymbolBook("SP500")
    out: dict[tuple[str, int], dict] = {}

    def feed_facts() -> None:
        for fact, series in _shiller_facts().items():
            for stamp, value in series.items():
                problem = book.add_fundamental(
                    _fundamental("SP500", fact, _ns(stamp), float(value))
                )
                assert problem is None
                if flush_often:
                    out.update({(m, t): v for m, t, v in book.flush()})

    if facts_first:
        feed_facts()
    for stamp, row in bars.iterrows():
        book.add_bar(_ns(stamp), float(row["close"]), float(row["adj_close"]))
        if flush_often:
            out.update({(m, t): v for m, t, v in book.flush()})
    if not facts_first:
        feed_facts()
    out.update({(m, t): v for m, t, v in book.flush()})
    return book, out


@pytest.mark.parametrize(
    ("facts_first", "flush_often"),
    [(True, True), (False, False), (True, False)],
    ids=["facts-first-flushed-each", "bars-first-one-flush", "facts-first-one-flush"],
)
def test_sp500_valuation_equals_pandas_forward_fill(facts_first: bool, flush_often: bool) -> None:
    _, out = _sp500_book(facts_first, flush_often)
    bars = load_daily_bars("SP500")
    expected = reference.valuation(bars["close"], _shiller_facts())
    assert len(expected) > 4_900
    for stamp, row in expected.iterrows():
        got = out[(METRIC_VALUATION, _ns(stamp))]
        want = {k: row[k] for k in ("close", "pe", "earnings_yield", "dividend_yield", "cape",
                                    "price_sales", "earnings_ttm", "earnings_10y")}  # fmt: skip
        assert_close(got, want, f"SP500 {stamp:%Y-%m-%d}")


def test_a_restated_month_changes_exactly_the_days_it_covers() -> None:
    book, _ = _sp500_book(facts_first=True)
    march = pd.Timestamp("2009-03-01", tz="UTC")
    old = float(_shiller_facts()["earnings_ttm"][march])
    problem = book.add_fundamental(
        _fundamental("SP500", "earnings_ttm", _ns(march), old * 1.1, revision=1)
    )
    assert problem is None
    records = book.flush()
    days = sorted(t for metric, t, _ in records)
    bars = load_daily_bars("SP500")
    march_days = bars.loc["2009-03-01":"2009-03-31"].index
    assert days == [_ns(d) for d in march_days]
    assert {metric for metric, _, _ in records} == {METRIC_VALUATION}
    for _, _, values in records:
        close = values["close"]
        assert close is not None
        assert values["earnings_ttm"] == old * 1.1
        assert values["pe"] == close / (old * 1.1)


def test_a_conflicting_duplicate_is_refused_and_a_repeat_changes_nothing() -> None:
    book = SymbolBook("SP500")
    t = _ns(pd.Timestamp("2009-03-01", tz="UTC"))
    book.add_bar(t, 100.0, 100.0)
    assert book.add_fundamental(_fundamental("SP500", "earnings_ttm", t, 10.0)) is None
    assert len(book.flush()) == 1
    assert book.add_fundamental(_fundamental("SP500", "earnings_ttm", t, 10.0)) is None
    assert book.flush() == []
    problem = book.add_fundamental(_fundamental("SP500", "earnings_ttm", t, 11.0))
    assert book.flush() == []
    assert problem is not None
    assert problem.startswith("conflicting duplicate")
    assert book.fact_at("earnings_ttm", t) == 10.0


def test_a_value_is_never_used_before_it_is_valid() -> None:
    book = SymbolBook("X")
    day = _ns(pd.Timestamp("2010-01-04", tz="UTC"))
    book.add_bar(day, 100.0, 100.0)
    book.add_fundamental(_fundamental("X", "earnings_ttm", day + 1, 5.0))
    assert book.flush() == []
    assert book.valuation(day) is None


def _goog_events() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    goog = load_daily_bars("GOOG")
    sp500 = load_daily_bars("SP500")["adj_close"]
    announced = earnings_dates("GOOG").loc[goog.index[0] : goog.index[-1]]
    return goog, sp500, announced


def _announcement_ns(day: pd.Timestamp) -> int:
    after_close = datetime.combine(day.date(), time(16, 0), NEW_YORK)
    return int(after_close.timestamp()) * 1_000_000_000


def _goog_book(order: str) -> tuple[SymbolBook, dict[tuple[str, int], dict]]:
    goog, sp500, announced = _goog_events()
    book = SymbolBook("GOOG")
    out: dict[tuple[str, int], dict] = {}
    inputs = []
    for stamp, row in goog.iterrows():
        close = float(row["close"])  # backtesting's GOOG has no adjusted close: prices as traded
        inputs.append(("bar", _ns(stamp), close))
        if stamp in sp500.index:
            inputs.append(("index", _ns(stamp), float(sp500[stamp])))
    for stamp, row in announced.iterrows():
        inputs.append(("fact", _announcement_ns(stamp), float(row["reported_eps"])))
    if order == "reversed":
        inputs.reverse()
    for kind, t, value in inputs:
        if kind == "bar":
            book.add_bar(t, value, value)
        elif kind == "index":
            book.add_index_close(t, value)
        else:
            problem = book.add_fundamental(_fundamental("GOOG", "earnings_announcement", t, value))
            assert problem is None
        if order == "reversed":
            out.update({(m, t): v for m, t, v in book.flush()})
    out.update({(m, t): v for m, t, v in book.flush()})
    return book, out


@pytest.mark.parametrize("order", ["in-order", "reversed"])
def test_goog_earnings_reactions_equal_pandas(order: str) -> None:
    _, out = _goog_book(order)
    goog, sp500, announced = _goog_events()
    assert len(announced) == 34
    after_close = pd.Series(True, index=announced.index)
    expected = reference.event_moves(goog["close"], sp500, after_close)
    assert len(expected) == 34
    for day0, row in expected.iterrows():
        got = out[(event_metric("earnings"), _ns(day0))]
        assert_close(got, row.to_dict(), f"GOOG earnings {day0:%Y-%m-%d}")
        assert day0 > pd.Timestamp(int(got["event_t_ns"]), tz="UTC").normalize()
    for window in ("0_1", "m1_5"):
        metric = event_study_metric("earnings", window)
        latest = max(t for m, t in out if m == metric)
        assert latest == _ns(expected.index[-1])
        want = reference.event_study(expected[f"abnormal_{window}"])
        assert_close(out[(metric, latest)], want, f"GOOG study {window}")


def test_session_close_follows_new_york_daylight_saving() -> None:
    winter = _ns(pd.Timestamp("2010-01-04", tz="UTC"))
    summer = _ns(pd.Timestamp("2010-07-06", tz="UTC"))
    assert session_close_ns(winter) == winter + 21 * 3_600_000_000_000  # 16:00 EST = 21:00 UTC
    assert session_close_ns(summer) == summer + 20 * 3_600_000_000_000  # 16:00 EDT = 20:00 UTC


def test_study_of_one_event_has_no_dispersion() -> None:
    one = study([0.05])
    assert one["count"] == 1.0
    assert one["std"] is None
    assert one["t_stat"] is None
    two = study([0.01, 0.03])
    assert two["std"] is not None
    assert math.isclose(two["std"], math.sqrt(2) * 0.01)
    assert two["median"] == 0.02


def test_the_announcement_reacts_the_next_trading_day_after_the_close() -> None:
    book = SymbolBook("X")
    friday = _ns(pd.Timestamp("2010-01-08", tz="UTC"))
    monday = _ns(pd.Timestamp("2010-01-11", tz="UTC"))
    for t, price in ((friday, 10.0), (monday, 11.0)):
        book.add_bar(t, price, price)
    after_close = int(datetime(2010, 1, 8, 21, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
    before_open = int(datetime(2010, 1, 8, 13, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
    assert book.day0(after_close) == 1
    assert book.day0(before_open) == 0
