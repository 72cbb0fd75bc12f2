"""benchmarks.peers.report: the table's figures and ratios."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.peers.report import table


@dataclass(frozen=True)
class FakeRun:
    trades_per_s: float
    trades_per_cpu_s: float
    records: int = 10


def test_medians_runs_and_ratios_against_the_reference():
    text = table(
        {
            "ripples": [FakeRun(100, 50), FakeRun(300, 70), FakeRun(200, 60)],
            "peer": [FakeRun(50, 120), FakeRun(40, 120), FakeRun(60, 120)],
            "skipped": [],
        },
        "ripples",
    )
    lines = text.splitlines()
    assert len(lines) == 4  # header, rule, two systems
    assert (
        lines[2]
        == "| ripples | **200** (100, 300, 200) | **60** (50, 70, 60) | 1.00x | 1.00x | 10 |"
    )
    assert (
        lines[3] == "| peer | **50** (50, 40, 60) | **120** (120, 120, 120) | 0.25x | 2.00x | 10 |"
    )


def test_without_the_reference_there_are_no_ratios():
    text = table({"peer": [FakeRun(50, 100)]}, "ripples")
    assert text.splitlines()[2].endswith("| — | — | 10 |")
