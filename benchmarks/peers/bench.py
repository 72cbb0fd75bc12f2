"""The peers benchmark: check every system's output on a small input, then time them all.

1. **Check** (``--check-trades``, default 20,000, 8 minutes of event time so the rolling
   window fills and slides): pre-fill small topics, run ripples on them, then every other system;
   each one's records must equal ripples' (``compare.differences``: same keys, values within
   1e-9), the Python baseline's on the metrics it does (no spread), the pass-through must have
   copied every trade and quote. Anything else stops the benchmark before it times anything.
2. **Time**: pre-fill ``--trades`` trades (and a quote each) once; ``--warmup-runs`` rounds
   that are not counted, then ``--runs`` rounds, each running every system once (rounds rather
   than system after system, so a slow drift of the machine spreads over all of them), each
   after waiting for a quiet machine. The warm-up is for the JVM: every Flink job runs in the
   same TaskManager, whose shared code (Flink's runtime, the Kafka client, the jobs' functions)
   the JIT compiler keeps optimizing over the first jobs; a new job on a fresh cluster costs
   ~1.7x the CPU of one on a cluster that has run a few (a Python peer starts a new process
   each run, with nothing to warm but the OS's caches).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console

from benchmarks.peers.compare import differences
from benchmarks.peers.report import table
from benchmarks.peers.runner import (
    BASELINE_METRICS,
    SYSTEMS,
    Measurement,
    check_peers_venv,
    clean_up,
    read_records,
)
from benchmarks.workload import Workload, prefilled, unique_prefix, wait_for_quiet
from streamlines.settings import Settings

REFERENCE = "ripples (Flink)"


@dataclass(frozen=True)
class Plan:
    trades: int
    trades_per_minute: int
    runs: int
    check_trades: int
    quiet_wait: float
    systems: tuple[str, ...] = tuple(SYSTEMS)
    warmup_runs: int = 0


def check_one(settings: Settings, system: str, small: Workload, expected: list[dict]) -> str:
    """Run ``system`` on the small input; a line saying how it compared, or SystemExit."""
    name = unique_prefix("peers-check")
    try:
        run = SYSTEMS[system](settings, small, name)
        if system == "Flink pass-through":
            wanted = small.trades + small.quotes
            if run.records != wanted:
                raise SystemExit(f"{system} wrote {run.records:,} records, not {wanted:,}")
            return f"{system}: copied all {wanted:,} trades and quotes"
        metrics = BASELINE_METRICS if system.startswith("Python baseline") else None
        wrong = differences(read_records(settings, run.output_topic), expected, metrics)
    finally:
        clean_up(settings, name)
    if wrong:
        raise SystemExit(
            f"{system}'s output differs from ripples' on the check input:\n  " + "\n  ".join(wrong)
        )
    return f"{system}: {run.records:,} records, equal to ripples'"


def check(settings: Settings, plan: Plan, console: Console) -> None:
    with prefilled(settings, plan.check_trades, plan.trades_per_minute, console) as small:
        name = unique_prefix("peers-check")
        try:
            with console.status("check: ripples on the small input"):
                ripples = SYSTEMS[REFERENCE](settings, small, name)
                expected = read_records(settings, ripples.output_topic)
        finally:
            clean_up(settings, name)
        console.print(f"check: ripples wrote {len(expected):,} records")
        for system in plan.systems:
            if system == REFERENCE:
                continue
            with console.status(f"check: {system} on the small input"):
                line = check_one(settings, system, small, expected)
            console.print(f"check: {line}")


def expected_count(system: str, ripples_records: int, workload: Workload) -> int:
    """How many records a run of ``system`` writes when it drops nothing: ripples' count; the
    baseline's without the spread (one a trade); the pass-through's, every trade and quote."""
    if system == "Flink pass-through":
        return workload.trades + workload.quotes
    if system.startswith("Python baseline"):
        return ripples_records - workload.trades
    return ripples_records


def time_all(settings: Settings, plan: Plan, console: Console) -> dict[str, list[Measurement]]:
    results: dict[str, list[Measurement]] = {system: [] for system in plan.systems}
    with prefilled(settings, plan.trades, plan.trades_per_minute, console) as workload:
        for run in range(1 - plan.warmup_runs, plan.runs + 1):
            for system in plan.systems:
                name = unique_prefix("peers")
                wait_for_quiet(console, plan.quiet_wait)
                label = f"run {run}/{plan.runs}" if run > 0 else "warm-up"
                try:
                    with console.status(f"{label}: {system}"):
                        measured = SYSTEMS[system](settings, workload, name)
                finally:
                    clean_up(settings, name)
                if run < 1:
                    console.print(
                        f"warm-up: {system}: {measured.seconds:.1f} s, "
                        f"{measured.cpu_seconds:.1f} CPU-s (not counted)"
                    )
                    continue
                results[system].append(measured)
                if measured.overlapping:
                    console.print(
                        f"[yellow]  run {run}: {system} shared the cluster with "
                        f"{', '.join(measured.overlapping)}[/yellow]"
                    )
                reference = results[REFERENCE][0].records if results.get(REFERENCE) else None
                if reference is not None:
                    wanted = expected_count(system, reference, workload)
                    if measured.records != wanted:
                        console.print(
                            f"[red]run {run}: {system} wrote {measured.records:,} records, "
                            f"not {wanted:,}[/red]"
                        )
                console.print(
                    f"run {run}: {system}: {measured.seconds:.1f} s = "
                    f"{measured.trades_per_s:,.0f} trades/s, {measured.cpu_seconds:.1f} CPU-s = "
                    f"{measured.trades_per_cpu_s:,.0f} trades per CPU-s, "
                    f"{measured.records:,} records"
                    + (
                        f" (process CPU with start-up {measured.process_cpu_seconds:.1f} s)"
                        if measured.process_cpu_seconds is not None
                        else ""
                    )
                )
    return results


def run_benchmark(settings: Settings, plan: Plan, console: Console) -> str:
    """Check, time, and return the table."""
    check_peers_venv(settings)
    check(settings, plan, console)
    results = time_all(settings, plan, console)
    return table(results, REFERENCE)
