"""The ripples job's command line: its topics, the idle timeout and the start time, on top of
the run options every job has."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from jobs.common.options import (
    RunOptions,
    add_from_time_argument,
    add_run_arguments,
    positive_int,
    run_options,
)
from streamlines.contracts.topics import TOPIC_QUOTES, TOPIC_RIPPLES, TOPIC_TRADES


@dataclass(frozen=True, kw_only=True)
class Options(RunOptions):
    group_id: str = "ripples"
    trades_topic: str = TOPIC_TRADES
    quotes_topic: str = TOPIC_QUOTES
    output_topic: str = TOPIC_RIPPLES
    idle_timeout_s: int = 5
    from_time_ms: int | None = None
    exactly_once: bool = False  # --delivery exactly-once (see the package's docstring)


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="ripples", description="Per-symbol bars, rolling statistics and spreads (Flink SQL)."
    )
    parser.add_argument("--trades-topic", default=TOPIC_TRADES)
    parser.add_argument("--quotes-topic", default=TOPIC_QUOTES)
    parser.add_argument("--output-topic", default=TOPIC_RIPPLES)
    add_run_arguments(parser, "ripples")
    parser.add_argument("--idle-timeout", type=positive_int, default=5, metavar="SECONDS")
    add_from_time_argument(parser, "where the consumer group stopped, the start for a new group")
    parser.add_argument(
        "--delivery",
        choices=("at-least-once", "exactly-once"),
        default="at-least-once",
        help="at-least-once: records visible at once, repeated after a restart (stores "
        "overwrite by symbol, metric and time); exactly-once: Kafka transactions, visible to "
        "read_committed readers at each checkpoint (default at-least-once)",
    )
    args = parser.parse_args(argv)
    return Options(
        **run_options(parser, args, "ripples"),
        trades_topic=args.trades_topic,
        quotes_topic=args.quotes_topic,
        output_topic=args.output_topic,
        idle_timeout_s=args.idle_timeout,
        from_time_ms=args.from_time,
        exactly_once=args.delivery == "exactly-once",
    )
