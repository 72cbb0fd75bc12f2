"""The input topics the currents job can read. A Kafka source bounded at the latest offsets
never finishes on a topic that does not exist, and the history source is always bounded (and
holds the watermark until it finishes), so a missing topic is checked for at start."""

from __future__ import annotations

from dataclasses import replace

from jobs.common.kafka import missing_topic_error
from jobs.currents.options import Options
from streamlines.errors import UserError


def present_topics(opts: Options, existing: set[str]) -> tuple[Options, list[str]]:
    """``opts`` with a missing history topic left out (nothing gathered yet), and a missing
    live topic left out of a ``--bounded`` run; the warnings to print. A missing live topic in
    a streaming run is an error (a typo, or ingest has not run yet)."""
    warnings = []
    if opts.history_topic is not None and opts.history_topic not in existing:
        warnings.append(f"history topic {opts.history_topic} does not exist: left out")
        opts = replace(opts, history_topic=None)
    if opts.live_topic is not None and opts.live_topic not in existing:
        if not opts.bounded:
            raise missing_topic_error("live", opts.live_topic, "--live-topic")
        warnings.append(f"live topic {opts.live_topic} does not exist: left out")
        opts = replace(opts, live_topic=None)
    if opts.history_topic is None and opts.live_topic is None:
        raise UserError(
            "neither input topic exists, nothing to compute",
            "check --history-topic and --live-topic, or gather or ingest first",
        )
    return opts, warnings
