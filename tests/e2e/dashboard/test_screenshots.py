"""The whole page on the live pipeline: every panel filled (the chart with its overlays, RSI, MACD
and volume panels and the forming bar; the ranking, the signal feed, the pipeline's health), the
crosshair's readout showing the bar under the pointer. Its screenshots are docs/images'
(``STREAMLINES_SCREENSHOTS=docs/images pytest tests/e2e/dashboard -k screenshots``; without it
they go to the test's temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.dashboard.conftest import Pipeline
from tests.e2e.dashboard.reading import PRICE, open_dashboard, vertices


def test_every_panel_is_filled_and_the_crosshair_reads_a_bar(
    live_pipeline: Pipeline, page: Page, tmp_path: Path
) -> None:
    folder = Path(os.environ.get("STREAMLINES_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    open_dashboard(page, live_pipeline.url(symbol="GOOG", timeframe="1Min"))
    for selector in (
        '[data-testid="forming-bar"]',
        '[data-testid="ranking-row"]',
        '[data-testid="signal-row"]',
        '[data-testid="consumer-lag"]',
        '[data-testid="job-health"]',
        '[data-testid="rsi-line"]',
        '[data-testid="macd-line"]',
    ):
        page.wait_for_selector(selector, timeout=120_000)
    keys = page.eval_on_selector_all(
        '[data-testid="overlay-line"]', "ls => [...new Set(ls.map(l => l.dataset.key))]"
    )
    assert len(keys) >= 3, keys  # VWAP, SMA, Bollinger
    page.screenshot(path=folder / "dashboard-overview.png")

    # The crosshair on a bar two thirds of the way along: the readout shows that bar.
    drawn = vertices(page)
    i = len(drawn) * 2 // 3
    box = page.locator(PRICE).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + drawn[i][0], box["y"] + drawn[i][1])
    page.wait_for_function(
        "document.querySelector('[data-testid=crosshair-readout]').dataset.index !== '-1'"
    )
    # read together: live bars keep re-scaling the chart under a still pointer
    j, shown_t, t = page.evaluate("""() => {
      const r = document.querySelector('[data-testid=crosshair-readout]');
      const j = Number(r.dataset.index);
      return [j, Number(r.dataset.t), window.__dashboard.data.t[j]];
    }""")
    assert abs(j - i) <= 2
    assert shown_t == t
    chart = page.locator(".chart-area")
    chart.screenshot(path=folder / "dashboard-chart.png")
