"""A PyFlink SQL job submitted with `flink run -py` to the standalone cluster, Kafka to Kafka."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from kafka import KafkaProducer

from streamlines.stack.services.flink import FlinkService

JOB = Path(__file__).parent / "flink_jobs" / "kafka_notional.py"


def test_flink_run_py_reads_one_topic_and_writes_another(stack, settings, unique_name, read_topic):
    source, sink = f"{unique_name}-in", f"{unique_name}-out"
    trades = [
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

    command, env = FlinkService(settings).cli_command(
        "run", "-py", str(JOB),
        "--bootstrap", settings.kafka_bootstrap, "--input", source, "--output", sink,
    )  # fmt: skip
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Job has been submitted with JobID" in result.stdout

    expected = sorted((t["S"].upper(), t["i"], t["p"] * t["s"]) for t in trades if t["s"] > 0)
    received = [json.loads(r.value) for r in read_topic(sink, len(expected))]
    assert sorted((r["symbol"], r["trade_id"], r["notional"]) for r in received) == expected
