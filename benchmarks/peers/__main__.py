"""``python -m benchmarks.peers [--trades 300000] [--runs 3]``: the ripples workload in ripples
(Flink), a Flink SQL pass-through (the ceiling), the plain Python baseline, Quix Streams and
Bytewax, side by side (issue 18). Each peer's output is checked equal to ripples' on a small
input before anything is timed (``bench.py``); then one table: trades/s and trades per
CPU-second (median and each run) and the ratios to ripples. The peers run in their own
virtualenv: ``benchmarks/peers/setup.sh`` (``make bench-peers`` runs both)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from benchmarks.peers.bench import Plan, run_benchmark
from benchmarks.peers.runner import SYSTEMS
from benchmarks.workload import DEFAULT_TRADES_PER_MINUTE, add_quiet_wait_option
from streamlines.console import make_console
from streamlines.settings import Settings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.peers",
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--trades", type=int, default=300_000, help="trades to pre-fill")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each system")
    parser.add_argument(
        "--warmup-runs", type=int, default=2,
        help="rounds of every system before the timed ones, not counted (warms the JVM's JIT)",
    )  # fmt: skip
    parser.add_argument(
        "--trades-per-minute", type=int, default=DEFAULT_TRADES_PER_MINUTE,
        help="trades per symbol and minute of event time",
    )  # fmt: skip
    parser.add_argument(
        "--check-trades", type=int, default=20_000,
        help="trades of the small input every output is checked on first",
    )  # fmt: skip
    parser.add_argument(
        "--only", action="append", choices=list(SYSTEMS), metavar="SYSTEM",
        help=f"run only these systems (repeatable; ripples always runs): {', '.join(SYSTEMS)}",
    )  # fmt: skip
    add_quiet_wait_option(parser)
    args = parser.parse_args(argv)
    systems = tuple(s for s in SYSTEMS if not args.only or s in args.only or s == "ripples (Flink)")
    plan = Plan(
        trades=args.trades,
        trades_per_minute=args.trades_per_minute,
        runs=args.runs,
        check_trades=args.check_trades,
        quiet_wait=args.quiet_wait,
        systems=systems,
        warmup_runs=args.warmup_runs,
    )
    console = make_console()
    result = run_benchmark(Settings(), plan, console)
    console.print()
    print(result)


if __name__ == "__main__":
    main()
