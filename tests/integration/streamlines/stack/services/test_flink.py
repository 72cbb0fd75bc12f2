"""A PyFlink SQL job submitted with `flink run -py` to the standalone cluster, Kafka to Kafka."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from tests.support.flink import run_job

JOB = Path(__file__).parent / "flink_jobs" / "kafka_notional.py"


def test_flink_run_py_reads_one_topic_and_writes_another(stack, settings, unique_name, read_topic):
    source, sink = f"{unique_name}-in", f"{unique_name}-out"
    trades: list[dict[str, Any]] = [
        {"S": symbol, "p": 100.0 + i * 0.25, "s": i % 7, "i": i}
        for i in range(200)
        for symbol in ("aapl", "msft")
    ]
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        value_serializer=lambda v: json.dumps(v).encode(),
    )
    for trade in trades:
        producer.send(source, trade)
    producer.flush(timeout=30)
    producer.close()

    result = run_job(
        settings, JOB,
        "--bootstrap", settings.kafka_bootstrap, "--input", source, "--output", sink,
        timeout=300,
    )  # fmt: skip
    assert "Job has been submitted with JobID" in result.stdout

    expected = sorted((t["S"].upper(), t["i"], t["p"] * t["s"]) for t in trades if t["s"] > 0)
    received = [json.loads(r.value) for r in read_topic(sink, len(expected))]
    assert sorted((r["symbol"], r["trade_id"], r["notional"]) for r in received) == expected
