"""The fan-out benchmark's latency percentiles from its histogram (ms buckets) agree with
NumPy's on the raw latencies, and its subscribers read update times out of a message as a
JSON parser would."""

from __future__ import annotations

import json

import numpy as np

from benchmarks.fanout import MAX_LATENCY_MS, NEXT_PREFIX, T_NS, RunResult


def result_of(histogram: np.ndarray) -> RunResult:
    return RunResult("shared", histogram, 0, 0, 0, 0, [], 0.0, 0.0, "", 0.0, None)


def test_percentiles_of_the_histogram_are_those_of_the_latencies() -> None:
    rng = np.random.default_rng(7)
    latencies = np.concatenate([rng.gamma(2.0, 60.0, 50_000), rng.uniform(800, 3000, 800)])
    histogram = np.bincount(latencies.astype(np.int64), minlength=MAX_LATENCY_MS + 1)
    result = result_of(histogram)
    for q in (50, 95, 99):
        # ms buckets: within the bucket of NumPy's (interpolated) percentile
        assert abs(result.percentile(q) - np.percentile(latencies, q)) <= 1.0


def test_update_times_are_read_as_json_would() -> None:
    times = [1_733_000_000_000_000_000 + i for i in range(3)]
    points = [{"symbol": "GOOG", "metric": "SPREAD", "tNs": str(t),
               "values": {"mid": 1.5, "x": None}} for t in times]  # fmt: skip
    message = json.dumps(
        {"id": "1", "type": "next", "payload": {"data": {"ripplesBatches": {"points": points}}}},
        separators=(",", ":"),
    )
    assert message.startswith(NEXT_PREFIX)
    assert [int(t) for t in T_NS.findall(message)] == times
