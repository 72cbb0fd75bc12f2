"""The command line every peer script takes, and the one line of JSON each prints at its end
(what the runner, ``python -m benchmarks.peers``, reads). Stdlib only: the peers run in their
own virtualenv (``setup.sh``)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

RESULT_PREFIX = "PEER-RESULT "


@dataclass(frozen=True)
class PeerArgs:
    bootstrap: str
    trades_topic: str
    quotes_topic: str
    output_topic: str
    group: str  # a name of the run's own: consumer group, state, helper topics
    symbols: tuple[str, ...]
    state_dir: str


def parse_args(description: str, argv: Sequence[str] | None = None) -> PeerArgs:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers")
    parser.add_argument("--trades-topic", required=True)
    parser.add_argument("--quotes-topic", required=True)
    parser.add_argument("--output-topic", required=True)
    parser.add_argument("--group", required=True, help="the run's consumer group / name")
    parser.add_argument(
        "--symbols", required=True, help="comma-separated symbols of the input (e.g. GOOG,SPX)"
    )
    parser.add_argument("--state-dir", required=True, help="a fresh directory for local state")
    args = parser.parse_args(argv)
    return PeerArgs(
        bootstrap=args.bootstrap,
        trades_topic=args.trades_topic,
        quotes_topic=args.quotes_topic,
        output_topic=args.output_topic,
        group=args.group,
        symbols=tuple(s for s in args.symbols.split(",") if s),
        state_dir=args.state_dir,
    )


@dataclass(frozen=True)
class PeerResult:
    trades: int  # trades read
    seconds: float  # from the dataflow's start to its end, output flushed
    cpu_seconds: float  # CPU of the process (all its threads) meanwhile


class Stopwatch:
    """Wall-clock and process CPU time (every thread's) since it was made."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def result(self, trades: int) -> PeerResult:
        return PeerResult(trades, time.perf_counter() - self.wall, time.process_time() - self.cpu)


def print_result(result: PeerResult) -> None:
    print(RESULT_PREFIX + json.dumps(asdict(result)), flush=True)


def parse_result(stdout: str) -> PeerResult | None:
    """The result line of a peer's output, or None if it printed none."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return PeerResult(**json.loads(line[len(RESULT_PREFIX) :]))
    return None
