"""The beacons job's command line: topics, the index symbol and the run mode."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from jobs.common.options import RunOptions, add_run_arguments, positive_int, run_options
from streamlines.contracts.topics import (
    TOPIC_BARS_HISTORY,
    TOPIC_BEACONS,
    TOPIC_FUNDAMENTALS,
    dead_letter_topic,
)

DEFAULT_INDEX = "SP500"
# How often (seconds of processing time) a symbol's changed records are written while input
# keeps arriving: inputs in between are coalesced, so a backfill writes each record about once.
DEFAULT_FLUSH_INTERVAL_S = 1


@dataclass(frozen=True, kw_only=True)
class Options(RunOptions):
    group_id: str = "beacons"
    bars_topic: str = TOPIC_BARS_HISTORY
    fundamentals_topic: str = TOPIC_FUNDAMENTALS
    output_topic: str = TOPIC_BEACONS
    index_symbol: str = DEFAULT_INDEX
    flush_interval_s: int = DEFAULT_FLUSH_INTERVAL_S

    @property
    def dead_letter_topic(self) -> str:
        return dead_letter_topic(self.fundamentals_topic)


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="beacons",
        description="Fundamentals against daily closes: valuation ratios per trading day, the "
        "moves and abnormal returns around earnings, dividends and splits, and event studies.",
    )
    parser.add_argument("--bars-topic", default=TOPIC_BARS_HISTORY, help="gathered bars")
    parser.add_argument("--fundamentals-topic", default=TOPIC_FUNDAMENTALS)
    parser.add_argument("--output-topic", default=TOPIC_BEACONS)
    parser.add_argument(
        "--index",
        default=DEFAULT_INDEX,
        metavar="SYMBOL",
        help=f"the index abnormal returns are measured against (default {DEFAULT_INDEX})",
    )
    parser.add_argument(
        "--flush-interval",
        type=positive_int,
        default=DEFAULT_FLUSH_INTERVAL_S,
        metavar="SECONDS",
        help="how often changed records are written while input arrives (default 1)",
    )
    add_run_arguments(parser, "beacons")
    args = parser.parse_args(argv)
    return Options(
        **run_options(parser, args, "beacons"),
        bars_topic=args.bars_topic,
        fundamentals_topic=args.fundamentals_topic,
        output_topic=args.output_topic,
        index_symbol=args.index.strip().upper(),
        flush_interval_s=args.flush_interval,
    )
