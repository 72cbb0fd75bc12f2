"""Running each system of the peers benchmark once on pre-filled topics: its output topic, its
seconds and the CPU it used. Flink's time is the job's duration in Flink and its CPU that of the
cluster's processes (JobManager, TaskManager and its Python workers) during ``flink run``; a
peer's time and CPU are what it reports (from its dataflow's start to its end, output flushed;
the CPU of its one process, every thread), and the CPU of its whole life (start-up included)
is kept beside; the Python baseline runs in this process, timed and metered by itself. Kafka's
own CPU counts for none of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from benchmarks.peers.peer_cli import parse_result
from benchmarks.python_baseline import run_baseline
from benchmarks.ripples_throughput import JOB, run_flink_script
from benchmarks.workload import (
    CpuMeter,
    Workload,
    delete_consumer_groups,
    delete_topics,
    topic_size,
)
from streamlines.contracts.metrics import METRIC_BAR_1M, METRIC_BAR_1S, METRIC_ROLLING
from streamlines.settings import Settings

PEERS_DIR = Path(__file__).resolve().parent
PASSTHROUGH = PEERS_DIR / "passthrough.py"
PEER_SCRIPTS = {"Quix Streams": "quix_ripples.py", "Bytewax": "bytewax_ripples.py"}
BASELINE_METRICS = (METRIC_BAR_1S, METRIC_BAR_1M, METRIC_ROLLING)  # it does no spread


@dataclass(frozen=True)
class Measurement:
    system: str
    trades: int
    seconds: float
    cpu_seconds: float
    records: int
    output_topic: str
    process_cpu_seconds: float | None = None  # a peer's whole process, start-up included
    overlapping: tuple[str, ...] = ()  # other Flink jobs that ran meanwhile (shared the CPU)

    @property
    def trades_per_s(self) -> float:
        return self.trades / self.seconds

    @property
    def trades_per_cpu_s(self) -> float:
        return self.trades / self.cpu_seconds if self.cpu_seconds else 0.0


def peers_python(settings: Settings) -> Path:
    return settings.home / "peers-venv" / "bin" / "python"


def check_peers_venv(settings: Settings) -> None:
    if not peers_python(settings).exists():
        raise SystemExit(
            f"the peers' virtualenv is missing ({peers_python(settings).parent.parent}): "
            "create it with benchmarks/peers/setup.sh (or make bench-peers)"
        )


def read_records(settings: Settings, topic: str) -> list[dict[str, Any]]:
    """Every record of ``topic`` (up to its end offsets now), JSON-decoded."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = {tp: end for tp, end in consumer.end_offsets(partitions).items() if end > 0}
        records = []
        while ends:
            for tp, batch in consumer.poll(timeout_ms=1000, max_records=50_000).items():
                records += [json.loads(m.value) for m in batch if m.offset < ends.get(tp, 0)]
                if tp in ends and batch[-1].offset + 1 >= ends[tp]:
                    del ends[tp]
        return records
    finally:
        consumer.close()


def flink_job(settings: Settings, workload: Workload, name: str, passthrough: bool) -> Measurement:
    """The ripples job (``benchmarks.ripples_throughput``'s command) or the pass-through."""
    output = f"{name}-out"
    script = PASSTHROUGH if passthrough else JOB
    args = [
        "--bootstrap", settings.kafka_bootstrap,
        "--trades-topic", workload.trades_topic, "--quotes-topic", workload.quotes_topic,
        "--output-topic", output, "--group-id", name, "--parallelism", "1",
    ]  # fmt: skip
    if not passthrough:
        args.append("--bounded")
    with CpuMeter(settings) as cpu:
        job = run_flink_script(settings, script, args, output)
    return Measurement(
        system="Flink pass-through" if passthrough else "ripples (Flink)",
        trades=workload.trades,
        seconds=job.seconds,
        cpu_seconds=cpu.cpu_seconds.get("flink", 0.0),
        records=job.records,
        output_topic=output,
        overlapping=job.overlapping,
    )


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def python_baseline(settings: Settings, workload: Workload, name: str) -> Measurement:
    output = f"{name}-out"
    before = _own_cpu()
    result = run_baseline(settings, workload.trades_topic, output)
    return Measurement(
        system="Python baseline (no spread)",
        trades=result.trades,
        seconds=result.seconds,
        cpu_seconds=_own_cpu() - before,
        records=result.records,
        output_topic=output,
    )


def peer(settings: Settings, system: str, workload: Workload, name: str) -> Measurement:
    """One run of a peer script in the peers' virtualenv, as a process of its own."""
    output = f"{name}-out"
    state_dir = tempfile.mkdtemp(prefix=f"{name}-state-")
    command = [
        str(peers_python(settings)), str(PEERS_DIR / PEER_SCRIPTS[system]),
        "--bootstrap", settings.kafka_bootstrap,
        "--trades-topic", workload.trades_topic, "--quotes-topic", workload.quotes_topic,
        "--output-topic", output, "--group", name, "--symbols", ",".join(workload.symbols),
        "--state-dir", state_dir,
    ]  # fmt: skip
    before = _children_cpu()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=7200)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    process_cpu_seconds = _children_cpu() - before  # its whole life, start-up included
    result = parse_result(done.stdout)
    if done.returncode != 0 or result is None:
        raise SystemExit(
            f"{system} failed (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    if result.trades != workload.trades:
        raise SystemExit(
            f"{system} read {result.trades:,} trades, not the topic's {workload.trades:,}"
        )
    return Measurement(
        system=system,
        trades=result.trades,
        seconds=result.seconds,
        cpu_seconds=result.cpu_seconds,
        process_cpu_seconds=process_cpu_seconds,
        records=topic_size(settings, output),
        output_topic=output,
    )


SYSTEMS: dict[str, Callable[[Settings, Workload, str], Measurement]] = {
    "ripples (Flink)": lambda s, w, n: flink_job(s, w, n, passthrough=False),
    "Flink pass-through": lambda s, w, n: flink_job(s, w, n, passthrough=True),
    "Python baseline (no spread)": python_baseline,
    "Quix Streams": lambda s, w, n: peer(s, "Quix Streams", w, n),
    "Bytewax": lambda s, w, n: peer(s, "Bytewax", w, n),
}


def clean_up(settings: Settings, name: str) -> None:
    """Everything a run named ``name`` may have left in Kafka: its output topic, the Quix
    peer's end-marker and changelog topics, its consumer group."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        topics = [t for t in admin.list_topics() if t.startswith(name) or f"__{name}--" in t]
    except KafkaError:
        topics = [f"{name}-out", f"{name}-end"]
    finally:
        admin.close()
    delete_topics(settings, topics)
    delete_consumer_groups(settings, [name])
    time.sleep(0.5)  # let the deletions settle before the next run creates topics
