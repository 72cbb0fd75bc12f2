"""Downsampling against plain reference implementations on the S&P 500's daily closes
1999-2018 (the ``arch`` package's), and its edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from graphql_server.downsample import Downsample, downsample
from streamlines.datasets import load_daily_bars
from tests.support.downsample import reference_lttb, reference_minmax


@pytest.fixture(scope="module")
def sp500() -> tuple[np.ndarray, np.ndarray]:
    bars = load_daily_bars("SP500")
    return bars.index.asi8.astype(np.int64), bars["close"].to_numpy()


@pytest.mark.parametrize("max_points", [3, 4, 100, 777, 2000])
def test_lttb_picks_the_bars_the_reference_picks(sp500, max_points):
    t_ns, close = sp500
    xs = [float(t - t_ns[0]) for t in t_ns]
    expected = reference_lttb(xs, close.tolist(), max_points)
    found = downsample(t_ns, close, max_points, Downsample.LTTB)
    assert len(close) == 5031
    assert found.tolist() == expected
    assert len(found) == max_points


@pytest.mark.parametrize("max_points", [2, 3, 101, 1000])
def test_minmax_keeps_each_buckets_extremes_in_time_order(sp500, max_points):
    t_ns, close = sp500
    found = downsample(t_ns, close, max_points, Downsample.MINMAX)
    assert found.tolist() == reference_minmax(close.tolist(), max_points)
    assert len(found) <= max_points
    # the series' own extremes are always kept
    assert int(np.argmin(close)) in found
    assert int(np.argmax(close)) in found


def test_lttb_keeps_the_crash_low_that_every_nth_bar_would_miss(sp500):
    t_ns, close = sp500
    found = downsample(t_ns, close, 200, Downsample.LTTB)
    assert int(np.argmin(close)) in found  # 2009-03-09
    assert not np.isin(int(np.argmin(close)), np.arange(0, len(close), len(close) // 200))


@pytest.mark.parametrize("how", list(Downsample))
def test_as_many_points_as_bars_or_more_keeps_them_all(how):
    t_ns = np.arange(5, dtype=np.int64) * 60_000_000_000
    close = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    assert downsample(t_ns, close, 5, how).tolist() == [0, 1, 2, 3, 4]
    assert downsample(t_ns, close, 50, how).tolist() == [0, 1, 2, 3, 4]


def test_fewer_than_three_points():
    t_ns = np.arange(6, dtype=np.int64)
    close = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 0.5])
    assert downsample(t_ns, close, 2, Downsample.LTTB).tolist() == [0, 5]
    assert downsample(t_ns, close, 1, Downsample.LTTB).tolist() == [5]
    assert downsample(t_ns, close, 1, Downsample.MINMAX).tolist() == [5]
    assert downsample(t_ns, close, 2, Downsample.MINMAX).tolist() == [3, 5]  # one bucket
    with pytest.raises(ValueError, match="at least 1"):
        downsample(t_ns, close, 0, Downsample.LTTB)


@pytest.mark.parametrize("how", list(Downsample))
def test_bars_without_a_close_are_never_picked(how):
    t_ns = np.arange(10, dtype=np.int64)
    close = np.array([1.0, np.nan, 9.0, 2.0, np.nan, 0.1, 3.0, 4.0, np.nan, 2.5])
    found = downsample(t_ns, close, 4, how).tolist()
    assert not any(np.isnan(close[found]))
    assert len(found) <= 4
    # the same as downsampling the bars that have a close
    valid = np.flatnonzero(~np.isnan(close))
    assert found == valid[downsample(t_ns[valid], close[valid], 4, how)].tolist()
    assert downsample(t_ns, np.full(10, np.nan), 4, how).tolist() == []
    assert downsample(t_ns, close, 7, how).tolist() == valid.tolist()
    assert downsample(t_ns, close, 10, how).tolist() == list(range(10))  # no downsampling


def test_lttb_on_times_with_gaps_uses_time_not_position():
    # a weekend gap: the same closes spaced differently pick differently
    close = np.array([1.0, 2.0, 1.5, 3.0, 1.0, 2.5, 2.0, 1.0])
    even = np.arange(8, dtype=np.int64)
    gapped = np.array([0, 1, 2, 3, 100, 101, 102, 103], dtype=np.int64)
    xs = [float(t) for t in gapped]
    assert downsample(gapped, close, 4, Downsample.LTTB).tolist() == reference_lttb(
        xs, close.tolist(), 4
    )
    assert downsample(even, close, 4, Downsample.LTTB).tolist() == reference_lttb(
        [float(t) for t in even], close.tolist(), 4
    )
