"""Pagination across symbols: limit over all symbols, tokens that resume exactly."""

from __future__ import annotations

import numpy as np

from connectors.replay.rest import Chunk, paginate

DATA = {"A": [1, 2, 3, 4, 5], "B": [2, 4], "C": [7, 8, 9]}


def _chunks(symbol, resume, descending):
    times = [
        t
        for t in DATA.get(symbol, [])
        if resume is None or (t <= resume if descending else t >= resume)
    ]
    for half in (times[:2], times[2:]):
        t = np.array(half, dtype=np.int64)
        yield Chunk(t, lambda a, b, t=t: [{"t": int(x)} for x in t[a:b]])


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
