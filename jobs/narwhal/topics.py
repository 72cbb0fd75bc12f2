"""The input topics the narwhal job can read, checked at start: a Kafka source bounded at the
latest offsets never finishes on a topic that does not exist, and the history source is always
bounded (and holds the watermark until it finishes)."""

from __future__ import annotations

from dataclasses import replace

from jobs.common.kafka import missing_topic_error
from jobs.narwhal.options import Options
from streamlines.errors import UserError


def present_topics(opts: Options, existing: set[str]) -> tuple[Options, list[str]]:
    """``opts`` with a missing history topic left out (nothing gathered yet), and a missing
    live topic left out of a ``--bounded`` run; the warnings to print. A missing live topic in
    a streaming run, or a missing indicators topic, is an error."""
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
            "neither bars topic exists, nothing to score",
            "check --history-topic and --live-topic, or gather or ingest first",
        )
    if opts.indicators_topic not in existing:
        raise UserError(
            f"indicators topic {opts.indicators_topic} does not exist",
            "check --indicators-topic, or run the currents job first (it writes the indicators "
            "the features need)",
        )
    return opts, warnings
