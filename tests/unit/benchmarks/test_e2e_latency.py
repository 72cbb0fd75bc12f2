"""The capacity search of the end-to-end latency benchmark, its runs replaced by figures."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from benchmarks import e2e_latency
from benchmarks.e2e_latency import RunFailed, RunResult, capacity_report


def result(p99_ms: float, unmatched: int = 0, late: int = 0) -> RunResult:
    latencies = np.full(100, p99_ms)
    return RunResult(100, unmatched, latencies, 0.0, latencies, "", late)


class Runs:
    """Each rate's result, and the rates run, in order."""

    def __init__(self) -> None:
        self.by_rate: dict[float, RunResult] = {}
        self.asked: list[float] = []

    def __call__(self, _settings: object, args: argparse.Namespace) -> list[RunResult]:
        self.asked.append(args.rate)
        found = self.by_rate.get(args.rate)
        if found is None:
            raise RunFailed("the subscription failed: more than 10000 updates were waiting")
        return [found]


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Runs:
    fake = Runs()
    monkeypatch.setattr(e2e_latency, "runs_at_rate", fake)
    return fake


def report(rates: list[float]) -> str:
    return capacity_report(None, argparse.Namespace(runs=1, rate=0.0), rates)  # type: ignore[arg-type]


def test_the_highest_rate_before_the_first_miss_and_no_rate_after_it(runs):
    runs.by_rate.update(
        {1000.0: result(300), 2000.0: result(900), 3000.0: result(1200), 4000.0: result(1)}
    )
    text = report([1000.0, 2000.0, 3000.0, 4000.0])
    assert text.endswith("capacity: 2,000 trades/s (of 1,000, 2,000, 3,000, 4,000)")
    assert "3,000 trades/s offered: p99 1200 ms, 0 lost: missed" in text
    assert runs.asked == [1000.0, 2000.0, 3000.0]  # 4,000 not run after a miss


@pytest.mark.parametrize("lost", [{"unmatched": 1}, {"late": 3}])
def test_a_lost_result_misses_however_fast(runs, lost):
    runs.by_rate[1000.0] = result(100, **lost)
    assert report([1000.0]).endswith("capacity: none of the rates (of 1,000)")


def test_a_failed_run_misses_and_says_why(runs):
    runs.by_rate[1000.0] = result(100)  # 2,000: the subscriber is cut off
    text = report([1000.0, 2000.0, 3000.0])
    assert "2,000 trades/s offered: missed, the subscription failed: more than 10000" in text
    assert text.endswith("capacity: 1,000 trades/s (of 1,000, 2,000, 3,000)")
    assert runs.asked == [1000.0, 2000.0]
