"""The bar topics a job reads, checked at start: a Kafka source bounded at the latest offsets
never finishes on a topic that does not exist, and the history source is always bounded (and
holds the watermark until it finishes)."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol, TypeVar

from jobs.common.kafka import missing_topic_error
from streamlines.errors import UserError


class BarsTopics(Protocol):
    @property
    def history_topic(self) -> str | None: ...

    @property
    def live_topic(self) -> str | None: ...

    @property
    def bounded(self) -> bool: ...


Opts = TypeVar("Opts", bound=BarsTopics)


def present_bars_topics(opts: Opts, existing: set[str], nothing: str) -> tuple[Opts, list[str]]:
    """``opts`` (a dataclass) with a missing history topic left out (nothing gathered yet), and
    a missing live topic left out of a ``--bounded`` run; the warnings to print. A missing live
    topic in a streaming run is an error (a typo, or ingest has not run yet), and so is neither
    topic existing (``nothing`` says what then cannot be done)."""
    warnings = []
    if opts.history_topic is not None and opts.history_topic not in existing:
        warnings.append(f"history topic {opts.history_topic} does not exist: left out")
        opts = replace(opts, history_topic=None)  # type: ignore[type-var]
    if opts.live_topic is not None and opts.live_topic not in existing:
        if not opts.bounded:
            raise missing_topic_error("live", opts.live_topic, "--live-topic")
        warnings.append(f"live topic {opts.live_topic} does not exist: left out")
        opts = replace(opts, live_topic=None)  # type: ignore[type-var]
    if opts.history_topic is None and opts.live_topic is None:
        raise UserError(
            nothing, "check --history-topic and --live-topic, or gather or ingest first"
        )
    return opts, warnings
