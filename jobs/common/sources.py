"""Where a job reads its input: Kafka topics (the default and the tested path) or Kinesis
streams of the same names and records (``--source kinesis``). One function builds a source
table's ``WITH`` options for either, so every job's SQL is the same apart from its connector."""

from __future__ import annotations

from collections.abc import Iterable

from jobs.common.kafka import existing_topics, kafka_json_source_options
from jobs.common.kinesis import kinesis_json_source_options
from jobs.common.options import RunOptions

SOURCES = ("kafka", "kinesis")


def reads_kafka(opts: RunOptions) -> bool:
    return opts.source == "kafka"


def json_source_options(
    opts: RunOptions,
    topic: str,
    *,
    startup_mode: str,
    bounded: bool,
    from_time_ms: int | None = None,
) -> dict[str, str]:
    """A JSON source of ``topic`` (a Kinesis stream of that name with ``--source kinesis``):
    ``startup_mode`` is a Kafka ``scan.startup.mode``, ``timestamp`` starting at
    ``from_time_ms``."""
    if opts.source == "kinesis":
        assert opts.kinesis is not None  # set with the source by run_options
        return kinesis_json_source_options(
            topic, opts.kinesis, startup_mode=startup_mode, bounded=bounded,
            from_time_ms=from_time_ms,
        )  # fmt: skip
    options = kafka_json_source_options(
        opts.bootstrap, topic, opts.group_id, startup_mode=startup_mode, bounded=bounded,
        properties=opts.kafka_properties,
    )  # fmt: skip
    if startup_mode == "timestamp" and from_time_ms is not None:
        options["scan.startup.timestamp-millis"] = str(from_time_ms)
    return options


def known_topics(opts: RunOptions, client_id: str, inputs: Iterable[str | None]) -> set[str]:
    """The Kafka topics that exist, for a job's check of its topics; with a Kinesis source its
    input streams count as present (Kafka cannot tell: the connector finds them, or fails, when
    the job starts)."""
    existing = existing_topics(opts.bootstrap, client_id, opts.kafka_properties)
    if opts.source == "kinesis":
        return existing | {topic for topic in inputs if topic}
    return existing
