"""REST bar rows: rendered from whole columns, they are the same as element by element."""

from __future__ import annotations

import pytest

from connectors.replay.protocol import rfc3339
from connectors.replay.rest import bar_chunks
from connectors.replay.timeframe import Timeframe
from connectors.replay.universe import build_universe


def _reference(bars, integral: bool) -> list[dict]:
    """The rendering the server had before it worked on whole columns."""
    return [
        {
            "c": float(bars.close[k]),
            "h": float(bars.high[k]),
            "l": float(bars.low[k]),
            "n": int(bars.trade_count[k]),
            "o": float(bars.open[k]),
            "t": rfc3339(int(bars.t[k])).replace(".000000000Z", "Z"),
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
    t0 = int(feed.t[0])
    t1 = int(feed.t[199])
    chunks = list(bar_chunks(feed, Timeframe.parse(timeframe), t0, t1, adjusted))
    (bars,) = feed.iter_bars(Timeframe.parse(timeframe), t0, t1, adjusted=adjusted)
    rows = [row for chunk in chunks for row in chunk.rows(0, len(chunk.t))]
    reference = _reference(bars, feed.integral_volume)
    assert rows == reference
    # == takes 1 for 1.0: the JSON would differ, so the types must match too
    assert [[type(v) for v in r.values()] for r in rows] == [
        [type(v) for v in r.values()] for r in reference
    ]
    assert chunks[0].rows(5, 7) == rows[5:7]
