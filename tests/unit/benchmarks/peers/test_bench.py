"""benchmarks.peers.bench: how many records each system should write on the timed input, and the
warm-up rounds."""

from __future__ import annotations

import io
from contextlib import contextmanager

from rich.console import Console

from benchmarks.peers import bench
from benchmarks.peers.bench import expected_count
from benchmarks.peers.runner import Measurement
from benchmarks.workload import Workload

WORKLOAD = Workload(
    prefix="p", trades_topic="p-trades", quotes_topic="p-quotes", trades=1000, quotes=1000,
    symbols=("GOOG",), produce_seconds=1.0,
)  # fmt: skip


def test_each_system_writes_what_it_computes():
    ripples = 2000 + 20 + 1  # rolling + spread (one a trade each), 20 1-s bars, one 1-m bar
    assert expected_count("Quix Streams", ripples, WORKLOAD) == ripples
    assert expected_count("Bytewax", ripples, WORKLOAD) == ripples
    assert expected_count("Python baseline (no spread)", ripples, WORKLOAD) == 1021
    assert expected_count("Flink pass-through", ripples, WORKLOAD) == 2000


def test_warm_up_rounds_run_every_system_and_are_not_counted(monkeypatch):
    calls: list[str] = []

    def system(name: str):
        def run(settings, workload, run_name):
            calls.append(name)
            return Measurement(
                system=name, trades=1000, seconds=1.0, cpu_seconds=float(len(calls)),
                records=2021, output_topic=f"{run_name}-out",
            )  # fmt: skip

        return run

    @contextmanager
    def prefilled(*args, **kwargs):
        yield WORKLOAD

    systems = {"ripples (Flink)": system("ripples (Flink)"), "Bytewax": system("Bytewax")}
    monkeypatch.setattr(bench, "SYSTEMS", systems)
    monkeypatch.setattr(bench, "prefilled", prefilled)
    monkeypatch.setattr(bench, "wait_for_quiet", lambda console, max_wait: None)
    monkeypatch.setattr(bench, "clean_up", lambda settings, name: None)
    plan = bench.Plan(
        trades=1000, trades_per_minute=600, runs=2, check_trades=100, quiet_wait=0,
        systems=tuple(systems), warmup_runs=1,
    )  # fmt: skip

    results = bench.time_all(None, plan, Console(file=io.StringIO()))  # type: ignore[arg-type]

    assert calls == ["ripples (Flink)", "Bytewax"] * 3
    assert [m.cpu_seconds for m in results["ripples (Flink)"]] == [3.0, 5.0]
    assert [m.cpu_seconds for m in results["Bytewax"]] == [4.0, 6.0]
