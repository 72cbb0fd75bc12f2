"""Provider rows -> fundamentals: when each became known (``t_ns``), in New York time across
daylight saving, and E10 = price / CAPE over Shiller's real series."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from connectors.fundamentals.mapping import (
    CAPE_DATASET,
    DIVIDEND_DATASET,
    EARNINGS_DATASET,
    PRICE_DATASET,
    announcement_candidates,
    announcement_t_ns,
    corporate_action_candidates,
    index_candidates,
    index_t_ns,
    new_york_ns,
)
from connectors.gather.corporate_actions import CorporateAction
from streamlines.contracts.time import datetime_to_ns
from streamlines.datasets import shiller_monthly


def utc_ns(year: int, month: int, day: int, hour: int = 0) -> int:
    return datetime_to_ns(datetime(year, month, day, hour, tzinfo=UTC))


@pytest.mark.parametrize(
    ("day", "code", "utc"),
    [
        # EST (UTC-5) in winter, EDT (UTC-4) in summer.
        (date(2005, 2, 1), "AMC", (2005, 2, 1, 21)),
        (date(2004, 10, 21), "AMC", (2004, 10, 21, 20)),
        (date(2012, 7, 19), "BTO", (2012, 7, 19, 12)),
        (date(2013, 1, 22), "BTO", (2013, 1, 22, 13)),
        (date(2012, 7, 19), "DMT", (2012, 7, 19, 16)),
        (date(2013, 1, 22), None, (2013, 1, 22, 5)),
        (date(2012, 7, 19), "XYZ", (2012, 7, 19, 4)),
        (date(2012, 7, 19), "amc", (2012, 7, 19, 20)),
        # The days DST starts and ends: 16:00 New York is EDT (UTC-4) on both of 2012's.
        (date(2012, 3, 11), "AMC", (2012, 3, 11, 20)),
        (date(2012, 11, 4), "AMC", (2012, 11, 4, 21)),
        (date(2012, 11, 4), None, (2012, 11, 4, 4)),
    ],
)
def test_an_announcement_is_known_at_its_new_york_time(day, code, utc):
    assert announcement_t_ns(day, code) == utc_ns(*utc)


def test_an_index_month_is_known_at_utc_midnight_plus_the_publication_lag():
    assert index_t_ns(date(2018, 12, 1), 0) == utc_ns(2018, 12, 1)
    assert index_t_ns(date(2018, 12, 1), 45) == utc_ns(2019, 1, 15)


def test_the_index_series_become_earnings_dividends_and_e10():
    months = shiller_monthly().loc["1999":"2018"]
    rows = {column: [(f"{t:%Y-%m-%d}", v) for t, v in months[column].items()]
            for column in ("earnings", "dividend", "cape", "sp500")}  # fmt: skip
    series = {EARNINGS_DATASET: rows["earnings"], DIVIDEND_DATASET: rows["dividend"],
              CAPE_DATASET: rows["cape"], PRICE_DATASET: rows["sp500"]}  # fmt: skip
    candidates = index_candidates("SP500", series, 0)
    assert all(c.problem is None and c.record is not None for c in candidates)
    by_fact: dict[str, dict[int, float]] = {}
    for c in candidates:
        assert c.record is not None
        assert (c.record["symbol"], c.record["source"]) == ("SP500", "MULTPL")
        by_fact.setdefault(c.record["fact"], {})[c.record["t_ns"]] = c.record["value"]
    t_ns = [datetime_to_ns(t) for t in months.index]
    assert by_fact["earnings_ttm"] == dict(zip(t_ns, months["earnings"], strict=True))
    assert by_fact["dividend_ttm"] == dict(zip(t_ns, months["dividend"], strict=True))
    e10 = months["sp500"] / months["cape"]
    assert by_fact["earnings_10y"] == dict(zip(t_ns, e10, strict=True))
    # Shiller's E10 in December 2018's dollars: about 91 (CAPE 28.3 at 2,567.3).
    assert 90 < by_fact["earnings_10y"][utc_ns(2018, 12, 1)] < 92


def test_e10_needs_both_price_and_cape_of_the_month():
    series = {PRICE_DATASET: [("1880-01-01", 5.0), ("1881-01-01", 6.0), ("1881-02-01", 6.0)],
              CAPE_DATASET: [("1881-01-01", 20.0), ("1881-02-01", 0.0)]}  # fmt: skip
    (only,) = index_candidates("SP500", series, 10)
    assert only.record == {"symbol": "SP500", "t_ns": utc_ns(1881, 1, 11), "fact": "earnings_10y",
                           "value": 0.3, "source": "MULTPL"}  # fmt: skip


def test_a_bad_date_is_a_problem_not_a_crash():
    (bad,) = index_candidates("SP500", {EARNINGS_DATASET: [("Dec 2018", 1.0)]}, 0)
    assert bad.record is None
    assert bad.problem == "date 'Dec 2018' is not YYYY-MM-DD"
    assert bad.raw == {"dataset": EARNINGS_DATASET, "date": "Dec 2018", "value": 1.0}


def test_zacks_rows_become_announcements():
    rows = [
        {"ticker": "GOOG", "per_end_date": None, "per_type": "Q", "act_rpt_date": "2004-10-21",
         "act_rpt_code": "AMC", "eps_mean_est": 0.0175, "eps_act": 0.0175},
        {"ticker": "GOOG", "per_end_date": "2012-12-31", "per_type": "Q",
         "act_rpt_date": "2013-01-22", "act_rpt_code": None, "eps_mean_est": None,
         "eps_act": -0.5},
        {"ticker": "GOOG", "per_end_date": None, "per_type": "Q", "act_rpt_date": "2030-01-22",
         "act_rpt_code": "AMC", "eps_mean_est": 0.3, "eps_act": None},  # still to come
    ]  # fmt: skip
    first, second = (c.record for c in announcement_candidates("GOOG", rows))
    assert first == {"symbol": "GOOG", "fact": "earnings_announcement",
                     "t_ns": utc_ns(2004, 10, 21, 20), "value": 0.0175, "source": "ZACKS/EA",
                     "estimate": 0.0175}  # fmt: skip
    assert second == {"symbol": "GOOG", "fact": "earnings_announcement",
                      "t_ns": utc_ns(2013, 1, 22, 5), "value": -0.5, "source": "ZACKS/EA",
                      "period_end_ns": utc_ns(2012, 12, 31)}  # fmt: skip


def test_corporate_actions_are_valid_from_the_ex_date_at_midnight_new_york():
    actions = [CorporateAction("ADJX", "cash_dividend", date(2018, 1, 5), 0.25),
               CorporateAction("ADJX", "reverse_split", date(2018, 6, 15), 0.1)]  # fmt: skip
    dividend, split = (c.record for c in corporate_action_candidates("ADJX", actions))
    assert dividend == {"symbol": "ADJX", "fact": "dividend", "value": 0.25,
                        "t_ns": utc_ns(2018, 1, 5, 5), "source": "alpaca"}  # fmt: skip
    assert split == {"symbol": "ADJX", "fact": "split", "value": 0.1,
                     "t_ns": utc_ns(2018, 6, 15, 4), "source": "alpaca"}  # fmt: skip
    assert new_york_ns(date(2018, 6, 15), time(0)) == split["t_ns"]
