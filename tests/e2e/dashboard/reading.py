"""Reading the dashboard's page (its DOM and ``window.__dashboard``, see dashboard/README.md) and
asking the GraphQL server the same questions the page asks."""

from __future__ import annotations

import math
from typing import Any

from playwright.sync_api import Page

from graphql_server.client import query

SERIES = """query($symbol: String!, $start: DateTime!, $end: DateTime, $maxPoints: Int,
                  $downsample: Downsample!) {
  series(symbol: $symbol, start: $start, end: $end, timeframe: MINUTE_1, maxPoints: $maxPoints,
         downsample: $downsample) { sourcePoints downsampled data { tNs close } }
}"""

# The price panel's SVG.
PRICE = 'svg[data-panel="price"]'


def open_dashboard(page: Page, url: str, timeout_ms: float = 30_000) -> dict[str, Any]:
    """Go to the page and wait until its chart's query has been answered and drawn; the query's
    info (``__dashboard.query``)."""
    page.goto(url)
    page.wait_for_function(
        """() => {
          const q = window.__dashboard?.query;
          const line = document.querySelector('[data-testid=price-line]');
          return q && q.state !== 'loading' && line?.getAttribute('points');
        }""",
        timeout=timeout_ms,
    )
    info: dict[str, Any] = page.evaluate("window.__dashboard.query")
    assert info["state"] == "ready", info
    return info


def vertices(page: Page) -> list[tuple[float, float]]:
    """The price polyline's vertices, from its ``points`` attribute."""
    points = page.get_attribute('[data-testid="price-line"]', "points") or ""
    return [(float(a), float(b)) for a, b in (p.split(",") for p in points.split())]


def drawn_with_data(page: Page) -> tuple[list[tuple[float, float]], dict[str, Any]]:
    """The polyline's vertices and ``__dashboard.data`` read in one evaluate: on a live chart a
    minute may close between two reads, so the two only agree when read together."""
    points, data = page.evaluate(
        """() => [document.querySelector('[data-testid="price-line"]').getAttribute('points')
                  || '', window.__dashboard.data]"""
    )
    return [(float(a), float(b)) for a, b in (p.split(",") for p in points.split())], data


def series(
    graphql: str, symbol: str, start: str, end: str | None, max_points: int | None, how: str
) -> dict[str, Any]:
    variables = {"symbol": symbol, "start": start, "end": end, "maxPoints": max_points,
                 "downsample": how}  # fmt: skip
    answer: dict[str, Any] = query(graphql, SERIES, variables)["series"]
    return answer


def rules(page: Page, test_id: str, attribute: str, coordinate: str) -> list[tuple[float, float]]:
    """(value, pixel) of the price panel's rules: each rule's data attribute and its line's
    ``coordinate`` (``y1`` of a value rule, ``x1`` of a time rule), read from the DOM."""
    found: list[list[str]] = page.eval_on_selector_all(
        f'{PRICE} [data-testid="{test_id}"]',
        f"""gs => gs.map(g => [g.getAttribute('{attribute}'),
                              g.querySelector('line').getAttribute('{coordinate}')])""",
    )
    return [(float(v), float(px)) for v, px in found]


def through_rules(ruled: list[tuple[float, float]], pixel: float) -> float:
    """The value at ``pixel`` read off a linear axis as a person reads it: between (or beyond)
    the two outermost rules, by their labels and positions."""
    (v0, p0), (v1, p1) = ruled[0], ruled[-1]
    return v0 + (pixel - p0) * (v1 - v0) / (p1 - p0)


def is_round_step(step: float) -> bool:
    """1, 2 or 5 times a power of ten."""
    power = 10 ** math.floor(math.log10(step) + 1e-12)
    return any(math.isclose(step, m * power, rel_tol=1e-9) for m in (1, 2, 5, 10))
