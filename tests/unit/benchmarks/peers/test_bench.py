"""benchmarks.peers.bench: how many records each system should write on the timed input."""

from __future__ import annotations

from benchmarks.peers.bench import expected_count
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
