"""The input topics the narwhal job can read (``jobs.common.topics`` checks the bar topics)."""

from __future__ import annotations

from jobs.common.topics import present_bars_topics
from jobs.narwhal.options import Options
from streamlines.errors import UserError


def present_topics(opts: Options, existing: set[str]) -> tuple[Options, list[str]]:
    """``opts`` without the bar topics that do not exist (see ``present_bars_topics``); a
    missing indicators topic is an error."""
    opts, warnings = present_bars_topics(
        opts, existing, "neither bars topic exists, nothing to score"
    )
    if opts.indicators_topic not in existing:
        raise UserError(
            f"indicators topic {opts.indicators_topic} does not exist",
            "check --indicators-topic, or run the currents job first (it writes the indicators "
            "the features need)",
        )
    return opts, warnings
