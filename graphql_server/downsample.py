"""Downsampling a series of bars to at most ``max_points`` of them, choosing by the close.

Both methods pick whole bars (their indices), never averages, so every bar returned is one that
was stored. When there are more bars than ``max_points``, bars whose close is NaN (null) are
never picked: they cannot be drawn.

- ``lttb``: Largest-Triangle-Three-Buckets (Steinarsson, 2013) on (time, close): the first and
  the last bar, and from each of ``max_points - 2`` equal buckets of the bars between them the
  one forming the largest triangle with the bar picked before it and the mean of the next
  bucket. Keeps the shape of a line chart.
- ``minmax``: ``max_points // 2`` equal buckets; from each the bar with the lowest close and the
  one with the highest (the first of equal ones), in time order. Keeps every extreme.

``max_points`` of at least the number of bars keeps them all; 1 keeps the last bar with a
close, and LTTB with 2 keeps the first and the last.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import numpy.typing as npt

Indices = npt.NDArray[np.intp]


class Downsample(Enum):
    LTTB = "lttb"
    MINMAX = "minmax"


def downsample(
    t_ns: npt.NDArray[np.int64], close: npt.NDArray[np.float64], max_points: int, how: Downsample
) -> Indices:
    """The indices (ascending) of at most ``max_points`` bars to keep."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, not {max_points}")
    if len(close) <= max_points:
        return np.arange(len(close))
    valid = np.flatnonzero(~np.isnan(close))
    if len(valid) <= max_points:
        return valid
    if max_points == 1:
        return valid[-1:]
    if how is Downsample.LTTB:
        # time relative to the first bar: float64 keeps nanosecond offsets of centuries exact
        # enough, absolute epoch nanoseconds would lose the low digits in the products
        x = (t_ns[valid] - t_ns[valid[0]]).astype(np.float64)
        return valid[lttb(x, close[valid], max_points)]
    return valid[minmax(close[valid], max_points)]


def lttb(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], n_out: int) -> Indices:
    """LTTB's picks of ``n_out`` (2 <= n_out < len(x)) of the points (x, y), x ascending."""
    n = len(x)
    picked = np.empty(n_out, dtype=np.intp)
    picked[0], picked[-1] = 0, n - 1
    every = (n - 2) / (n_out - 2) if n_out > 2 else 0.0
    a = 0
    for i in range(n_out - 2):
        start = int(i * every) + 1
        stop = int((i + 1) * every) + 1
        # the next bucket (for the last one: the last point), never empty as n > n_out
        following = slice(stop, min(int((i + 2) * every) + 1, n))
        avg_x, avg_y = x[following].mean(), y[following].mean()
        xs, ys = x[start:stop], y[start:stop]
        area = np.abs((x[a] - avg_x) * (ys - y[a]) - (x[a] - xs) * (avg_y - y[a]))
        a = start + int(np.argmax(area))
        picked[i + 1] = a
    return picked


def minmax(y: npt.NDArray[np.float64], n_out: int) -> Indices:
    """From each of ``n_out // 2`` equal buckets the lowest and the highest ``y`` (the first of
    equal ones), ascending and without repeats."""
    n = len(y)
    buckets = n_out // 2
    bucket = np.arange(n) * buckets // n  # equal counts, in order
    lowest = np.lexsort((y, bucket))  # by bucket, then y: each bucket's first is its minimum
    highest = np.lexsort((-y, bucket))  # lexsort is stable: the first of equal values wins
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    return np.unique(np.concatenate([lowest[starts], highest[starts]]))
