"""The replay server's REST API: bar rows rendered from whole columns are the same as element
by element; pagination across symbols: limit over all symbols, tokens that resume exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from connectors.replay.rest import Chunk, bar_chunks, paginate
from connectors.replay.timeframe import AlpacaTimeframe
from connectors.replay.universe import build_universe
from streamlines.contracts.time import rfc3339_ns


def _reference(bars, integral: bool) -> list[dict]:
    """The rendering the server had before it worked on whole columns."""
    return [
        {
            "c": float(bars.close[k]),
            "h": float(bars.high[k]),
            "l": float(bars.low[k]),
            "n": int(bars.trade_count[k]),
            "o": float(bars.open[k]),
            "t": rfc3339_ns(int(bars.t[k])).replace(".000000000Z", "Z"),
            "v": int(bars.volume[k]) if integral else float(bars.volume[k]),
            "vw": float(bars.vwap[k]),
        }
        for k in range(len(bars))
    ]


@pytest.mark.parametrize(
    ("symbol", "timeframe", "adjusted"),
    [("SP500", "1Day", False), ("SP500", "1Day", True), ("EUR/USD", "1Hour", False)],
)
def test_rows_equal_the_element_by_element_rendering(symbol, timeframe, adjusted):
    feed = build_universe(symbols=[symbol]).get(symbol)
    assert feed is not None
    t0 = int(feed.t[0])
    t1 = int(feed.t[199])
    chunks = list(bar_chunks(feed, AlpacaTimeframe.parse(timeframe), t0, t1, adjusted))
    (bars,) = feed.iter_bars(AlpacaTimeframe.parse(timeframe), t0, t1, adjusted=adjusted)
    rows = [row for chunk in chunks for row in chunk.rows(0, len(chunk.t))]
    reference = _reference(bars, feed.integral_volume)
    assert rows == reference
    # == takes 1 for 1.0: the JSON would differ, so the types must match too
    assert [[type(v) for v in r.values()] for r in rows] == [
        [type(v) for v in r.values()] for r in reference
    ]
    assert chunks[0].rows(5, 7) == rows[5:7]


DATA = {"A": [1, 2, 3, 4, 5], "B": [2, 4], "C": [7, 8, 9]}


def _chunks(symbol, resume, descending):
    times = [
        t
        for t in DATA.get(symbol, [])
        if resume is None or (t <= resume if descending else t >= resume)
    ]
    for half in (times[:2], times[2:]):
        t = np.array(half, dtype=np.int64)

        def rows(a: int, b: int, t: np.ndarray = t) -> list[dict[str, Any]]:
            return [{"t": int(x)} for x in t[a:b]]

        yield Chunk(t, rows)


def _all_pages(limit, descending=False):
    pages, token = [], None
    while True:
        page, token = paginate(sorted(DATA), _chunks, limit, descending, token)
        pages.append(page)
        if token is None:
            return pages


def _flatten(pages):
    return [(s, r["t"]) for p in pages for s, rows in p.items() for r in rows]


def test_pages_hold_at_most_limit_items_and_cover_everything_in_order():
    for limit in (1, 2, 3, 4, 10, 100):
        pages = _all_pages(limit)
        assert all(sum(len(v) for v in p.values()) <= limit for p in pages)
        assert _flatten(pages) == [(s, t) for s in sorted(DATA) for t in DATA[s]]


def test_descending_is_by_symbol_then_newest_first():
    flat = _flatten(_all_pages(3, descending=True))
    assert flat == [(s, t) for s in sorted(DATA) for t in sorted(DATA[s], reverse=True)]
