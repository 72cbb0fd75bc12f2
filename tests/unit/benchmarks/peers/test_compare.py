"""benchmarks.peers.compare: what makes two systems' records "the same"."""

from __future__ import annotations

import pytest

from benchmarks.peers.compare import by_key, differences


def rec(metric: str, t_ns: int, **values: float | None) -> dict:
    return {"symbol": "GOOG", "metric": metric, "t_ns": t_ns, "values": values}


def test_equal_records_in_any_order_have_no_differences():
    a = [rec("bar_1s", 1, open=1.0, vwap=None), rec("spread", 2, bid=99.5)]
    b = [rec("spread", 2, bid=99.5 * (1 + 1e-12)), rec("bar_1s", 1, open=1.0, vwap=None)]
    assert differences(a, b) == []


def test_missing_extra_and_wrong_values_are_named():
    expected = [rec("bar_1s", 1, open=1.0), rec("bar_1s", 2, open=2.0), rec("rolling_5m", 3)]
    received = [rec("bar_1s", 1, open=1.001), rec("bar_1s", 4, open=2.0), rec("rolling_5m", 3)]
    assert differences(received, expected) == [
        "missing ('bar_1s', 'GOOG', 2)",
        "unexpected ('bar_1s', 'GOOG', 4)",
        "('bar_1s', 'GOOG', 1): open 1.001 != 1.0",
    ]


def test_null_only_where_the_other_is_null():
    assert differences([rec("spread", 1, bid=None)], [rec("spread", 1, bid=1.0)]) != []
    assert differences([rec("spread", 1, bid=1.0)], [rec("spread", 1, bid=None)]) != []
    assert differences([rec("spread", 1, bid=float("nan"))], [rec("spread", 1, bid=None)]) == []


def test_a_field_only_one_side_has_differs():
    assert differences([rec("bar_1s", 1, open=1.0)], [rec("bar_1s", 1, open=1.0, count=3.0)])


def test_ret_mean_near_zero_gets_an_absolute_tolerance():
    got, want = rec("rolling_5m", 1, ret_mean=3e-16), rec("rolling_5m", 1, ret_mean=-2e-16)
    assert differences([got], [want]) == []
    got, want = rec("rolling_5m", 1, price_mean=3e-16), rec("rolling_5m", 1, price_mean=-2e-16)
    assert differences([got], [want]) != []


def test_metrics_limits_the_comparison():
    expected = [rec("bar_1s", 1, open=1.0), rec("spread", 1, bid=1.0)]
    assert differences([rec("bar_1s", 1, open=1.0)], expected, metrics=["bar_1s"]) == []
    assert differences([rec("bar_1s", 1, open=1.0)], expected) == ["missing ('spread', 'GOOG', 1)"]


def test_long_lists_are_cut():
    expected = [rec("bar_1s", t, open=1.0) for t in range(25)]
    lines = differences([], expected, limit=10)
    assert len(lines) == 11
    assert lines[-1] == "... and 15 more"


def test_a_repeated_record_is_an_error():
    with pytest.raises(ValueError, match="twice"):
        by_key([rec("bar_1s", 1), rec("bar_1s", 1)])
