"""The price chart of gathered history: one polyline vertex per bar the query returned, each where
its value is (read through the scales and, independently, through the ruled axes) on an axis
whose nights between sessions are closed, the value rules at round steps framing the data, the
time rules on round New York hours and session opens, the crosshair reading the bar under the
pointer."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from playwright.sync_api import Page

from tests.e2e.dashboard.conftest import Pipeline
from tests.e2e.dashboard.reading import (
    PRICE,
    is_round_step,
    open_dashboard,
    rules,
    series,
    through_rules,
    vertices,
)

# Three sessions of gathered 1-minute bars (end exclusive): more bars than the plot has pixels,
# so the server downsamples them to its width.
START, END = "2012-01-03T00:00:00Z", "2012-01-06T00:00:00Z"
NEW_YORK = ZoneInfo("America/New_York")


def chart_url(pipeline: Pipeline, symbol: str = "SP500") -> str:
    return pipeline.url(symbol=symbol, timeframe="1Min", start=START, end=END)


def test_the_price_line_has_one_vertex_per_bar_the_query_returned_each_at_its_value(
    pipeline: Pipeline, page: Page
) -> None:
    info = open_dashboard(page, chart_url(pipeline))
    drawn = vertices(page)

    # The same question to the server: the page drew what it answers, vertex for vertex.
    answer = series(pipeline.graphql, "SP500", START, END, info["maxPoints"], "LTTB")
    times = [int(t) // 1_000_000 for t in answer["data"]["tNs"]]
    closes = answer["data"]["close"]
    raw = series(pipeline.graphql, "SP500", START, END, None, "LTTB")
    assert info["sourcePoints"] == answer["sourcePoints"] == len(raw["data"]["tNs"]) > 1000
    assert info["downsampled"] is True
    assert answer["downsampled"] is True
    assert info["points"] == len(times) == len(drawn) <= info["maxPoints"]
    assert 0.8 * info["maxPoints"] <= len(drawn), "downsampled far below the chart's width"
    # LTTB keeps real bars, the first and the last among them
    raw_times = [int(t) // 1_000_000 for t in raw["data"]["tNs"]]
    kept = dict(zip(raw_times, raw["data"]["close"], strict=True))
    assert all(kept[t] == c for t, c in zip(times, closes, strict=True))
    assert (times[0], times[-1]) == (min(kept), max(kept))
    data = page.evaluate("window.__dashboard.data")
    assert data["t"] == times
    assert data["close"] == closes
    assert data["formingIndex"] == -1

    # Each vertex at the scales' pixel of its bar (attribute rounding: 1/100 px).
    at = page.evaluate(
        "([ts, cs]) => ts.map((t, i) => [window.__dashboard.x(t), window.__dashboard.y(cs[i])])",
        [times, closes],
    )
    assert np.allclose(drawn, at, atol=0.006)

    # Independently of the scale functions: the plot box, the domains and the closed gaps
    # between sessions (nights: one typical step wide, not 17 hours), mapped here ...
    plot = page.evaluate("window.__dashboard.plot")
    (x0, x1), (y0, y1) = page.evaluate("[window.__dashboard.xDomain, window.__dashboard.yDomain]")
    assert x0 == times[0]
    assert x1 > times[-1]
    assert y0 < min(closes)
    assert y1 > max(closes)
    drawn_t = closed_gaps(np.array(times, dtype=np.float64), x1)
    want_x = plot["left"] + drawn_t[:-1] / drawn_t[-1] * plot["width"]
    want_y = plot["top"] + plot["height"] - (np.array(closes) - y0) / (y1 - y0) * plot["height"]
    assert np.allclose([v[0] for v in drawn], want_x, atol=0.006)
    assert np.allclose([v[1] for v in drawn], want_y, atol=0.006)
    # The chart spends its width on the sessions: each night is narrower than 1 % of the plot.
    nights = [i for i in range(1, len(times)) if times[i] - times[i - 1] > 6 * 3_600_000]
    assert len(nights) == 2
    assert all(drawn[i][0] - drawn[i - 1][0] < plot["width"] * 0.01 for i in nights)

    # ... and as a reader of the page does: through the labelled rules drawn in the SVG, between
    # the two rules either side of a vertex in the same session.
    value_rules = rules(page, "value-rule", "data-value", "y1")
    time_rules = rules(page, "time-rule", "data-t", "x1")
    span = max(closes) - min(closes)
    read = 0
    for i in np.linspace(0, len(drawn) - 1, 48).astype(int):
        x, y = drawn[i]
        assert math.isclose(through_rules(value_rules, y), closes[i], abs_tol=span * 1e-4), i
        around = same_session_rules(time_rules, x)
        if around:
            minute_px = (around[1][1] - around[0][1]) * 60_000 / (around[1][0] - around[0][0])
            assert abs(through_rules(list(around), x) - times[i]) <= 60_000 * 0.01 / minute_px, i
            read += 1
    assert read >= 8, f"only {read} of 48 vertices lay between two rules of their session"


def closed_gaps(times: np.ndarray, end: float) -> np.ndarray:
    """The times' (and ``end``'s) positions on an axis whose gaps between sessions are closed:
    an interval longer than 3 typical ones (the median; at least a bar) counts as the median."""
    steps = np.diff(times)
    typical = max(60_000.0, float(np.median(steps)))
    drawn = np.where(steps > 3 * typical, typical, steps)
    return np.concatenate([[0.0], np.cumsum(drawn), [drawn.sum() + end - times[-1]]])


def same_session_rules(
    ruled: list[tuple[float, float]], pixel: float
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The time rules just left and right of ``pixel`` when both lie on one New York day."""
    left = [r for r in ruled if r[1] <= pixel]
    right = [r for r in ruled if r[1] > pixel]
    if not left or not right:
        return None
    a, b = left[-1], right[0]
    return (a, b) if new_york_day(a[0]) == new_york_day(b[0]) else None


def new_york_day(t_ms: float) -> date:
    return datetime.fromtimestamp(t_ms / 1000, UTC).astimezone(NEW_YORK).date()


def test_the_value_rules_frame_the_data_at_round_steps_and_time_rules_fall_on_hours(
    pipeline: Pipeline, page: Page
) -> None:
    open_dashboard(page, chart_url(pipeline, "GOOG"))
    data = page.evaluate("window.__dashboard.data")
    # what the price panel draws: the close, VWAP, SMA and Bollinger bands (the default overlays)
    columns = [data["close"], data["vwap"]] + [
        page.evaluate(f"window.__dashboard.indicator('{name}', '{field}')")
        for name, field in (("SMA", "sma_20"), ("BOLLINGER", "upper"), ("BOLLINGER", "lower"))
    ]
    values = [v for column in columns for v in column if v is not None]
    labels = page.eval_on_selector_all(
        f'{PRICE} [data-testid="value-rule"]', "gs => gs.map(g => g.getAttribute('data-value'))"
    )
    ruled = [float(v) for v in labels]
    assert len(ruled) >= 3
    assert ruled[0] <= min(values)
    assert ruled[-1] >= max(values)
    steps = np.diff(ruled)
    step = float(steps[0])
    assert np.allclose(steps, step, rtol=1e-9), ruled
    assert is_round_step(step), ruled
    assert all(math.isclose(v / step, round(v / step), abs_tol=1e-6) for v in ruled), ruled
    # the rules frame the data: its range padded (3 %) and rounded out to the next step
    room = 0.03 * (max(values) - min(values)) + step
    assert min(values) - ruled[0] < room
    assert ruled[-1] - max(values) < room
    assert page.evaluate("window.__dashboard.yDomain") == [ruled[0], ruled[-1]]

    # Time rules on whole New York hours (session opens, days), inside the drawn span.
    labels = page.eval_on_selector_all(
        f'{PRICE} [data-testid="time-rule"]', "gs => gs.map(g => g.getAttribute('data-t'))"
    )
    times = [int(float(t)) for t in labels]
    assert len(times) >= 3
    for t in times:
        local = datetime.fromtimestamp(t / 1000, UTC).astimezone(NEW_YORK)
        assert (local.minute, local.second) in ((0, 0), (30, 0)), local
        assert data["t"][0] <= t <= data["t"][-1] + 60_000


def test_the_crosshair_reads_the_bar_under_the_pointer(pipeline: Pipeline, page: Page) -> None:
    open_dashboard(page, chart_url(pipeline))
    drawn = vertices(page)
    data = page.evaluate("window.__dashboard.data")
    box = page.locator(PRICE).bounding_box()
    assert box is not None
    for i in (len(drawn) // 5, len(drawn) // 2, len(drawn) - 3):
        x, y = drawn[i]
        page.mouse.move(box["x"] + x, box["y"] + y)
        crosshair = page.locator(f'{PRICE} [data-testid="crosshair"]')
        crosshair.wait_for()
        assert int(float(crosshair.get_attribute("data-t") or "nan")) == data["t"][i]
        assert int(crosshair.get_attribute("data-index") or "-1") == i
        # the price at the pointer: the vertex's own (to the pixel's worth of price)
        y0, y1 = page.evaluate("window.__dashboard.yDomain")
        pixel = (y1 - y0) / page.evaluate("window.__dashboard.plot.height")
        value = float(crosshair.get_attribute("data-value") or "nan")
        assert abs(value - data["close"][i]) <= pixel
        readout = page.locator('[data-testid="crosshair-readout"]')
        assert int(readout.get_attribute("data-index") or "-1") == i
