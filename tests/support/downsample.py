"""Plain reference implementations of the downsampling methods (``graphql_server.history.
downsample``), written as their definitions read, for the tests to check the server against."""

from __future__ import annotations

import math


def reference_lttb(xs: list[float], ys: list[float], threshold: int) -> list[int]:
    """Largest-Triangle-Three-Buckets as Steinarsson's thesis and its JavaScript write it."""
    n = len(xs)
    if threshold >= n:
        return list(range(n))
    every = (n - 2) / (threshold - 2)
    a = 0
    picked = [0]
    for i in range(threshold - 2):
        avg_start = math.floor((i + 1) * every) + 1
        avg_end = min(math.floor((i + 2) * every) + 1, n)
        count = avg_end - avg_start
        avg_x = sum(xs[avg_start:avg_end]) / count
        avg_y = sum(ys[avg_start:avg_end]) / count
        best, best_area = -1, -1.0
        for j in range(math.floor(i * every) + 1, math.floor((i + 1) * every) + 1):
            area = abs((xs[a] - avg_x) * (ys[j] - ys[a]) - (xs[a] - xs[j]) * (avg_y - ys[a])) * 0.5
            if area > best_area:
                best, best_area = j, area
        picked.append(best)
        a = best
    picked.append(n - 1)
    return picked


def reference_minmax(ys: list[float], max_points: int) -> list[int]:
    """Per bucket (equal counts: point i is in bucket i * buckets // n) the first lowest and the
    first highest value, in order."""
    n, buckets = len(ys), max_points // 2
    lowest: dict[int, int] = {}
    highest: dict[int, int] = {}
    for i, y in enumerate(ys):
        b = i * buckets // n
        if b not in lowest or y < ys[lowest[b]]:
            lowest[b] = i
        if b not in highest or y > ys[highest[b]]:
            highest[b] = i
    return sorted(set(lowest.values()) | set(highest.values()))
