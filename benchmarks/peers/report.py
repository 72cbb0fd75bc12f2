"""The peers benchmark's table: per system, the median and each run of trades/s and trades per
CPU-second, and both medians as ratios to ripples' (Markdown, as the README quotes it)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Protocol


class Run(Protocol):
    @property
    def trades_per_s(self) -> float: ...
    @property
    def trades_per_cpu_s(self) -> float: ...
    @property
    def records(self) -> int: ...


def _figures(values: Sequence[float]) -> str:
    runs = ", ".join(f"{v:,.0f}" for v in values)
    return f"**{statistics.median(values):,.0f}** ({runs})"


def table(runs: Mapping[str, Sequence[Run]], reference: str) -> str:
    """One row per system of ``runs`` (system -> its runs), ratios against ``reference``'s."""
    ref = runs.get(reference) or ()
    ref_rate = statistics.median([r.trades_per_s for r in ref]) if ref else None
    ref_cpu = statistics.median([r.trades_per_cpu_s for r in ref]) if ref else None
    lines = [
        "| system | trades/s, median (runs) | trades per CPU-second, median (runs) "
        f"| trades/s vs {reference} | per CPU-second vs {reference} | records out |",
        "|---|---|---|---|---|---|",
    ]
    for system, results in runs.items():
        if not results:
            continue
        rate = [r.trades_per_s for r in results]
        per_cpu = [r.trades_per_cpu_s for r in results]
        vs_rate = f"{statistics.median(rate) / ref_rate:.2f}x" if ref_rate else "—"
        vs_cpu = f"{statistics.median(per_cpu) / ref_cpu:.2f}x" if ref_cpu else "—"
        lines.append(
            f"| {system} | {_figures(rate)} | {_figures(per_cpu)} | {vs_rate} | {vs_cpu} "
            f"| {results[0].records:,} |"
        )
    return "\n".join(lines)
