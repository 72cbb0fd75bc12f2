"""Ingest's cost per message in-process: the ``Router`` (validation, de-duplication, the wire
JSON) and ``KafkaSink`` (confluent-kafka, librdkafka) to the local stack's Kafka, beside the
same ``Router`` over the kafka-python producer the sink used before (issue 18), kept here as
the baseline only: a minimal KafkaProducer send loop with the old sink's settings (acks=all,
idempotence, linger 5 ms, per-key murmur2 remembered per key), its in-flight bound (a
semaphore) and counters (a future's callbacks per record).

Each run routes ``--messages`` messages, trades and quotes alternating over ``--symbols``
symbols in alpaca's shape (msgpack-decoded dicts, as the websocket client hands them to the
router), to fresh topics and waits for the last acknowledgement. CPU is the whole process's
(every thread: kafka-python's sender, librdkafka's), per message; wall is to the last
acknowledgement. The two paths alternate, medians of ``--runs``.

    python -m benchmarks.ingest_sink [--messages 100000] [--runs 3] [--partitions 1]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
from kafka import KafkaProducer
from kafka.partitioner import DefaultPartitioner

from benchmarks.workload import (
    add_quiet_wait_option,
    delete_topics,
    unique_prefix,
    wait_for_quiet,
)
from connectors.ingest.router import Router, Topics
from connectors.sinks.kafka import KafkaSink, ensure_topics
from streamlines.console import make_console
from streamlines.contracts.events import Event
from streamlines.settings import Settings

START_NS = 1_764_000_000_000_000_000  # 2025-11-24, behind the wall clock as a feed's are


def messages(count: int, symbols: int) -> list[dict[str, Any]]:
    """Trades and quotes alternating, a millisecond apart, each trade with an id of its own."""
    names = [f"SYM{s:02d}" for s in range(symbols)]
    out: list[dict[str, Any]] = []
    for n in range(count):
        symbol = names[n % symbols]
        t = msgpack.Timestamp.from_unix_nano(START_NS + n * 1_000_000)
        price = 100.0 + (n % 97) * 0.01
        if n % 2 == 0:
            out.append({"T": "t", "S": symbol, "i": n, "x": "V", "p": price, "s": 100,
                        "c": ["@"], "t": t, "z": "C"})  # fmt: skip
        else:
            out.append({"T": "q", "S": symbol, "bx": "V", "bp": price - 0.01, "bs": 3,
                        "ax": "V", "ap": price + 0.01, "as": 2, "c": ["R"], "t": t,
                        "z": "C"})  # fmt: skip
    return out


class _RememberingPartitioner(DefaultPartitioner):
    """kafka-python's default choice (murmur2), remembered per topic, key and partition count,
    as the old sink's KeyPartitioner did (kafka-python's pure-Python murmur2 is ~10 µs)."""

    def __init__(self) -> None:
        self._chosen: dict[tuple[str, bytes, int], int] = {}

    def partition(self, topic: str, key: Any, serialized_key: bytes | None, *rest: Any) -> int:
        cluster = rest[-1]  # after the value and its serialized form
        partitions = cluster.partitions_for_topic(topic)
        if serialized_key is None or not partitions:
            return super().partition(topic, key, serialized_key, *rest)
        cache_key = (topic, serialized_key, len(partitions))
        chosen = self._chosen.get(cache_key)
        if chosen is None:
            chosen = self._chosen[cache_key] = super().partition(topic, key, serialized_key, *rest)
        return chosen


class KafkaPythonSink:
    """The old KafkaSink's path per record, for the baseline: a slot of the in-flight bound,
    the counters, ``KafkaProducer.send`` and the future's callbacks."""

    def __init__(self, bootstrap: str, max_in_flight: int = 10_000) -> None:
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="bench-kafka-python",
            acks="all",
            retries=2**31 - 1,
            enable_idempotence=True,
            max_in_flight_requests_per_connection=5,
            linger_ms=5,
            delivery_timeout_ms=120_000,
            partitioner=_RememberingPartitioner(),
        )
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._lock = threading.Lock()
        self.acked = self.failed = self.sent = 0

    def send(self, topic: str, event: Event) -> None:
        self._slots.acquire()
        with self._lock:
            self.sent += 1
        future = self._producer.send(topic, key=event.key(), value=event.to_wire())
        future.add_callback(self._on_ack)
        future.add_errback(self._on_error)

    def dead_letter(self, topic: str, reason: str, raw: Any, source: str) -> None:
        raise AssertionError(f"the workload is valid, yet: {reason}")

    def _on_ack(self, _metadata: Any) -> None:
        with self._lock:
            self.acked += 1
        self._slots.release()

    def _on_error(self, _exc: BaseException) -> None:
        with self._lock:
            self.failed += 1
        self._slots.release()

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        self._producer.close(timeout)


@dataclass
class Cost:
    cpu_us: float  # per message, every thread of the process
    wall_us: float


def one_run(settings: Settings, path: str, raw: list[dict[str, Any]], partitions: int) -> Cost:
    prefix = unique_prefix(f"ingest-{path}")
    topics = Topics(f"{prefix}-trades", f"{prefix}-quotes", f"{prefix}-bars")
    bootstrap = settings.kafka_bootstrap
    ensure_topics(bootstrap, topics.with_dead_letters(), partitions)
    sink: KafkaSink | KafkaPythonSink
    if path == "confluent-kafka":
        sink = KafkaSink(bootstrap, client_id="bench-ingest-sink")
    else:
        sink = KafkaPythonSink(bootstrap)
    acked: Callable[[], int] = (
        (lambda: sink.counters.acked) if isinstance(sink, KafkaSink) else (lambda: sink.acked)
    )
    try:
        router = Router(sink, topics, "bench")
        route = router.route
        cpu, wall = time.process_time(), time.perf_counter()
        for message in raw:
            route(message)
        sink.flush(120)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert acked() == len(raw), (path, acked(), router.counts)
    finally:
        sink.close(10)
        delete_topics(settings, topics.with_dead_letters())
    return Cost(cpu / len(raw) * 1e6, wall / len(raw) * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    add_quiet_wait_option(parser)
    args = parser.parse_args()

    console = make_console()
    settings = Settings()
    raw = messages(args.messages, args.symbols)
    paths = ("kafka-python", "confluent-kafka")
    costs: dict[str, list[Cost]] = {path: [] for path in paths}
    idle: list[float] = []
    for run in range(1, args.runs + 1):
        for path in paths:
            quiet = wait_for_quiet(console, args.quiet_wait)
            if quiet is not None:
                idle.append(quiet)
            cost = one_run(settings, path, raw, args.partitions)
            costs[path].append(cost)
            console.print(
                f"run {run}, {path:>15}: {cost.cpu_us:6.1f} µs CPU, {cost.wall_us:6.1f} µs wall "
                f"per message"
            )

    def median(path: str, field: str) -> float:
        return statistics.median(getattr(c, field) for c in costs[path])

    console.print(
        f"Router + Kafka producer, {args.messages:,} trades and quotes of {args.symbols} "
        f"symbols, {args.partitions} partition(s), median of {args.runs} runs"
        + (f" (machine {min(idle):.0%}-{max(idle):.0%} idle before the runs)" if idle else "")
    )
    for path in paths:
        console.print(
            f"  {path:>15}: {median(path, 'cpu_us'):6.1f} µs CPU, "
            f"{median(path, 'wall_us'):6.1f} µs wall per message"
        )
    old, new = paths
    console.print(
        f"  CPU per message {median(old, 'cpu_us') / median(new, 'cpu_us'):.1f}x less, wall "
        f"{median(old, 'wall_us') / median(new, 'wall_us'):.1f}x less"
    )


if __name__ == "__main__":
    main()
