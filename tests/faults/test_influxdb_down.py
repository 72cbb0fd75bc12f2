"""Fault 3: InfluxDB is down for 60 s while `streamlines sink influx` copies a topic that keeps
growing.

What protects the data: the sink commits a batch's offsets only after InfluxDB took it, and
while InfluxDB is unavailable it pauses (connectors/sinks/analytics.py): it fetches nothing
more, holds the one batch it has (at most 5,000 records), logs "InfluxDB unavailable, paused at
offset ...", and tries again every 5 s. Once InfluxDB is back it writes the held batch and reads
on from there.

Checked: the sink never exits; its group's committed offset stands still through the outage
while the topic grows; its memory stays bounded; afterwards InfluxDB holds one point per record
on the topic (0 lost, 0 extra), and how long the catching up took.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from connectors.sinks.kafka import ensure_topics
from streamlines.contracts.time import NS_PER_SECOND
from tests.support.faults import RecordKey, influx_analytics, new_bucket, report
from tests.support.private_stack import PrivateStack
from tests.support.processes import cli_command

OUTAGE_S = 60
RECORDS_PER_S = 100
T0 = 1_709_562_600 * NS_PER_SECOND  # 2024-03-04 14:30 UTC
MIB = 1 << 20
# What the paused sink may grow by: one batch of 5,000 records and its points is a few MiB;
# the ~6,000 records that arrive meanwhile must stay in Kafka.
MEMORY_BOUND = 64 * MIB


class Producer(threading.Thread):
    """Sends ripples-shaped records, RECORDS_PER_S a second, until stopped; keeps their keys."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(name="fault3-producer")
        self.topic, self.stop = topic, threading.Event()
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
        self.keys: list[RecordKey] = []

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            for _ in range(RECORDS_PER_S // 10):
                t_ns = T0 + i * NS_PER_SECOND
                value = {"symbol": "GOOG", "metric": "bar_1s", "t_ns": t_ns,
                         "values": {"close": 100.0 + i % 97, "count": float(i)}}  # fmt: skip
                self.producer.send(self.topic, key=b"GOOG", value=json.dumps(value).encode())
                self.keys.append(("bar_1s", "GOOG", t_ns))
                i += 1
            self.producer.flush(timeout=30)
            time.sleep(0.1)
        self.producer.close()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def committed(bootstrap: str, group: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="fault3")
    try:
        return sum(m.offset for m in admin.list_group_offsets(group)[group].values())
    finally:
        admin.close()


def topic_end(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tp = TopicPartition(topic, 0)
        return int(consumer.end_offsets([tp])[tp])
    finally:
        consumer.close()


def test_the_sink_pauses_while_influxdb_is_down_and_loses_nothing(
    fault_stack: PrivateStack, tmp_path
):
    settings, bootstrap = fault_stack.settings, fault_stack.settings.kafka_bootstrap
    topic, group = "fault3.ripples", "fault3-sink"
    ensure_topics(bootstrap, [topic])
    bucket = new_bucket(settings, "fault3")
    log_path = tmp_path / "sink.log"
    producer = Producer(bootstrap, topic)
    with log_path.open("wb") as log:
        sink = subprocess.Popen(
            cli_command("sink", "influx", "--topic", topic, "--bucket", bucket,
                        "--measurement", "ripples", "--group-id", group),
            env={**os.environ, **fault_stack.env}, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            producer.start()
            deadline = time.monotonic() + 60
            while not influx_analytics(settings, bucket, "ripples"):
                assert time.monotonic() < deadline, "the sink wrote nothing before the outage"
                assert sink.poll() is None, log_path.read_text()[-3000:]
                time.sleep(1)
            rss_before = rss_bytes(sink.pid)

            fault_stack.stack.down(["influxdb"])
            down_at = time.monotonic()
            peak, samples = rss_before, {}
            while (elapsed := time.monotonic() - down_at) < OUTAGE_S:
                assert sink.poll() is None, f"the sink exited: {log_path.read_text()[-3000:]}"
                peak = max(peak, rss_bytes(sink.pid))
                for at in (10, OUTAGE_S - 5):
                    if elapsed >= at and at not in samples:
                        samples[at] = (committed(bootstrap, group), topic_end(bootstrap, topic))
                time.sleep(1)
            fault_stack.stack.up(["influxdb"])
            up_at = time.monotonic()
            time.sleep(10)  # records keep coming after the outage too
            producer.stop.set()
            producer.join()

            wanted = set(producer.keys)
            deadline = time.monotonic() + 120
            while len(stored := influx_analytics(settings, bucket, "ripples")) < len(wanted):
                assert time.monotonic() < deadline, f"{len(stored)} of {len(wanted)} written"
                assert sink.poll() is None, f"the sink exited: {log_path.read_text()[-3000:]}"
                time.sleep(1)
            caught_up_s = time.monotonic() - up_at
            alive = sink.poll() is None
        finally:
            producer.stop.set()
            sink.terminate()
            sink.wait(30)
    text = log_path.read_text()
    for line in text.splitlines():  # what the sink said, for the record
        if "InfluxDB unavailable, paused" in line or "InfluxDB back after" in line:
            print(f"  sink: {line[:240]}")
    (held_early, end_early), (held_late, end_late) = samples[10], samples[OUTAGE_S - 5]
    lost, extra = wanted - set(stored), set(stored) - wanted
    print(
        report(
            "3 InfluxDB down 60 s",
            records_on_topic=len(wanted),
            points_in_influxdb=len(stored),
            lost=len(lost),
            extra=len(extra),
            committed_offset_during_outage=f"{held_early} -> {held_late}",
            topic_grew_during_outage_by=end_late - end_early,
            sink_memory_growth_mib=round((peak - rss_before) / MIB, 1),
            time_to_catch_up_s=round(caught_up_s, 1),
        )
    )
    assert alive, "the sink did not survive the outage"
    assert "InfluxDB unavailable, paused at offset" in text, text[-3000:]
    assert held_early == held_late, "the sink committed offsets InfluxDB never took"
    assert end_late > end_early, "the topic did not grow during the outage"
    assert peak - rss_before < MEMORY_BOUND
    assert not lost, f"{len(lost)} records lost, e.g. {sorted(lost)[:3]}"
    assert not extra
