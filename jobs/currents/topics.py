"""The input topics the currents job can read (``jobs.common.topics`` checks them)."""

from __future__ import annotations

from jobs.common.topics import present_bars_topics
from jobs.currents.options import Options


def present_topics(opts: Options, existing: set[str]) -> tuple[Options, list[str]]:
    """``opts`` without the bar topics that do not exist (see ``present_bars_topics``)."""
    return present_bars_topics(opts, existing, "neither input topic exists, nothing to compute")
