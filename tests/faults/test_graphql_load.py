"""Fault 7: the GraphQL server under load from a real load tool (k6, built from its Go module by
scripts/load-tools.sh; the script is tests/faults/load/graphql.js), on the shared stack's
InfluxDB with data in a bucket of the test's own and live records on a topic of its own.

1. 500 requests/s of mixed queries (symbols, minute bars, rolling metrics, ripples with a
   limit) for 60 s: 0 errors, no request k6 could not start on time; p50/p99 printed.
2. 1,000 concurrent websocket subscribers (graphql-transport-ws) on 10 symbols while records
   are produced (each stamped with the wall clock, so a subscriber measures its delivery
   latency); halfway, a subscriber that never reads and one that reads slowly join, each on
   every symbol and on one more that only they want, which gets NOISE_PER_S records a second
   from then on.

What protects the server: each subscription's queue is bounded (STREAMLINES_GRAPHQL_
SUBSCRIPTION_QUEUE, here 100): a client that falls that far behind is skipped by the fan-out
and its subscription ended with an error saying why (graphql_server/live.py); one that stops
reading altogether is also closed by the websocket keepalive. So the server's resident memory
stays within BOUND_MIB of what it was when they joined, and the other subscribers' p99 delivery
latency stays within LATENCY_BOUND of theirs before.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.sinks.influx import InfluxWriter
from streamlines.child import graphql_server_process
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.influx import MEASUREMENT_RIPPLES
from streamlines.contracts.points import analytics_point
from streamlines.settings import Settings
from tests.support.fault_streams import shared_kafka
from tests.support.faults import report
from tests.support.load import RawSubscriber, RssSampler, k6_binary, rss_mib, run_k6, server_pid

SCRIPT = Path(__file__).parent / "load" / "graphql.js"
SYMBOLS = [f"LOAD{i}" for i in range(10)]
NOISE = "NOISE"  # only the two bad subscribers want it
DAY = "2012-01-03"
T0 = 1_325_601_000_000_000_000  # 2012-01-03T14:30:00Z
MINUTE = 60 * 10**9
RATE, QUERY_S = 500, 60
SUBSCRIBERS, SUBSCRIBE_S, BAD_AT_S = 1000, 40, 20
RECORDS_PER_S = 2  # per symbol, to the 100 subscribers of each
NOISE_PER_S = 200  # from BAD_AT_S on: more than the slow reader reads
QUEUE = 100
BOUND_MIB = 64.0  # measured: +51 MiB with 1,000 subscribers streaming (docs/faults.md)
LATENCY_BOUND = (3.0, 500.0)  # after-p99 <= 3 x before-p99 + 500 ms (docs/faults.md)


def bar(symbol: str, t_ns: int, close: float) -> AnalyticsRecord:
    values = {"open": close, "high": close + 1, "low": close - 1, "close": close,
              "volume": 100.0, "vwap": close, "count": 3.0}  # fmt: skip
    return AnalyticsRecord(symbol=symbol, metric="bar_1m", t_ns=t_ns, values=values)


@pytest.fixture
def bucket_and_topic() -> Iterator[tuple[Settings, str, str]]:
    from influxdb_client import InfluxDBClient

    settings = Settings()
    shared_kafka(settings)
    name = f"t-graphql-load-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    client = InfluxDBClient(
        url=settings.influx_url, token=settings.influx_token.get_secret_value(),
        org=settings.influx_org,
    )  # fmt: skip
    bucket = client.buckets_api().create_bucket(bucket_name=name)
    try:
        yield settings, name, name
    finally:
        client.buckets_api().delete_bucket(bucket)
        client.close()
        admin.delete_topics([name])
        admin.close()


def write_history(settings: Settings, bucket: str) -> int:
    """A day of minute bars and 5-minute rolling metrics of each symbol."""
    records = []
    for k, symbol in enumerate(SYMBOLS):
        for i in range(390):
            records.append(bar(symbol, T0 + i * MINUTE, 100.0 + k + i / 100))
            if i % 5 == 0:
                values = {"price_mean": 100.0 + i, "price_std": 0.5}
                rolling = AnalyticsRecord(
                    symbol=symbol, metric="rolling_5m", t_ns=T0 + i * MINUTE, values=values
                )
                records.append(rolling)
    with InfluxWriter.from_settings(settings, bucket) as writer:
        writer.write(analytics_point(r, MEASUREMENT_RIPPLES) for r in records)
    return len(records)


class Producer:
    """RECORDS_PER_S bars of each symbol a second, stamped with the wall clock, until stopped."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        self.topic = topic
        self.sent = 0
        self.noisy = False  # also NOISE_PER_S records only the bad subscribers want
        self.noise_sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Producer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.producer.close()

    def send(self, record: AnalyticsRecord) -> None:
        self.producer.send(self.topic, key=record.key(), value=record.to_wire())

    def _run(self) -> None:
        while not self._stop.wait(1 / RECORDS_PER_S):
            for symbol in SYMBOLS:
                self.send(bar(symbol, time.time_ns(), 100.0))
                self.sent += 1
            for _ in range(NOISE_PER_S // RECORDS_PER_S if self.noisy else 0):
                self.send(bar(NOISE, time.time_ns(), 1.0))
                self.noise_sent += 1
            self.producer.flush()


def trend(metrics: dict, name: str, stat: str) -> float:
    return float(metrics[name]["values"][stat]) if name in metrics else float("nan")


def count(metrics: dict, name: str) -> int:
    return int(metrics[name]["values"]["count"]) if name in metrics else 0


@pytest.fixture
def server(bucket_and_topic, tmp_path) -> Iterator[tuple[Settings, str, str, int, Path]]:
    """The GraphQL server on the bucket (with a day of data) and the topic; its settings, URL,
    topic, pid and log."""
    settings, bucket, topic = bucket_and_topic
    write_history(settings, bucket)
    env = {
        "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": bucket,
        "STREAMLINES_GRAPHQL_RIPPLES_TOPIC": topic,
        "STREAMLINES_GRAPHQL_RATE_LIMIT_PER_MINUTE": "1000000",
        "STREAMLINES_GRAPHQL_MAX_SUBSCRIPTIONS": "5000",
        "STREAMLINES_GRAPHQL_SUBSCRIPTION_QUEUE": str(QUEUE),
    }
    log = tmp_path / "graphql.log"
    with graphql_server_process(env, log_path=log) as url:
        pid = server_pid(int(url.split(":")[2].split("/")[0]))
        yield settings, url, topic, pid, log


def common_env(url: str) -> dict[str, str]:
    return {"GRAPHQL_URL": url, "SYMBOLS": ",".join(SYMBOLS), "DAY": DAY}


def test_500_mixed_queries_a_second_for_a_minute(server, tmp_path):
    """Offered 500 requests/s for a minute: no request fails and no answer is an error, however
    far past its capacity the server is pushed. The rate it reaches and the latencies are
    printed, not asserted (speed is the benchmarks' business): one server process answers about
    80 of these InfluxDB-backed queries a second on this 2-core machine (docs/faults.md)."""
    settings, url, _, _, _ = server
    env = {**common_env(url), "MODE": "queries", "RATE": str(RATE), "DURATION_S": str(QUERY_S)}
    queries = run_k6(k6_binary(settings), SCRIPT, tmp_path / "q.json", env, QUERY_S + 60)
    print(
        report(
            "7a graphql queries under load",
            requests=count(queries, "http_reqs"),
            request_rate=round(float(queries["http_reqs"]["values"]["rate"]), 1),
            errors=count(queries, "graphql_errors"),
            not_started_in_time=count(queries, "dropped_iterations"),
            p50_ms=round(trend(queries, "http_req_duration", "p(50)"), 1),
            p99_ms=round(trend(queries, "http_req_duration", "p(99)"), 1),
        )
    )
    assert count(queries, "graphql_errors") == 0
    assert float(queries["http_req_failed"]["values"]["rate"]) == 0
    assert count(queries, "http_reqs") > 0


def test_1000_subscribers_with_one_that_never_reads_and_one_that_reads_slowly(server, tmp_path):
    settings, url, topic, pid, log = server
    k6 = k6_binary(settings)
    live = {**common_env(url), "MODE": "subscribers", "SUBSCRIBERS": str(SUBSCRIBERS),
            "SUBSCRIBE_S": str(SUBSCRIBE_S), "BAD_AT_S": str(BAD_AT_S)}  # fmt: skip
    result: dict = {}
    with Producer(settings.kafka_bootstrap, topic) as producer, RssSampler(pid) as rss:
        k6_thread = threading.Thread(
            target=lambda: result.update(
                run_k6(k6, SCRIPT, tmp_path / "subs.json", live, timeout=SUBSCRIBE_S + 90)
            )
        )
        k6_thread.start()
        time.sleep(BAD_AT_S)
        bad_at = rss.elapsed()
        rss_at_join = rss_mib(pid)
        never = RawSubscriber(url, [*SYMBOLS, NOISE])
        slow = RawSubscriber(url, [*SYMBOLS, NOISE], read_every=0.2)
        producer.noisy = True
        k6_thread.join(SUBSCRIBE_S + 100)
        peak = rss.peak_between(bad_at, rss.elapsed())
        never.close()
        slow.close()
        produced = producer.sent
    ended = log.read_text().count("client too slow")
    before_p99 = trend(result, "delivery_ms{phase:before}", "p(99)")
    after_p99 = trend(result, "delivery_ms{phase:after}", "p(99)")
    latency_bound = LATENCY_BOUND[0] * before_p99 + LATENCY_BOUND[1]
    print(
        report(
            "7b graphql subscribers",
            subscribers=count(result, "subscribed"),
            records_produced=produced,
            noise_records=producer.noise_sent,
            updates_received=count(result, "updates"),
            errors=count(result, "graphql_errors"),
            errors_by_kind={
                kind: count(result, f"errors_{kind}")
                for kind in ("payload", "message", "socket", "closed_early")
            },
            delivery_p50_ms=round(trend(result, "delivery_ms", "p(50)"), 1),
            delivery_p99_before_ms=round(before_p99, 1),
            delivery_p99_after_ms=round(after_p99, 1),
            latency_bound_ms=round(latency_bound, 1),
            rss_at_join_mib=round(rss_at_join, 1),
            rss_peak_after_mib=round(peak, 1),
            rss_bound_mib=BOUND_MIB,
            slow_subscriptions_ended=ended,
        )
    )
    assert ended >= 1, "the bad subscribers' subscriptions were ended"
    assert peak - rss_at_join <= BOUND_MIB, "memory bounded"
    assert after_p99 <= latency_bound, "the others are not slowed"
    assert count(result, "subscribed") == SUBSCRIBERS
    # A subscriber closed before its time counts as an error; on the loaded 2-core machine one
    # in a thousand has been (docs/faults.md): more would be the server dropping them.
    assert count(result, "graphql_errors") <= SUBSCRIBERS // 1000
    # Each record reaches the 100 subscribers of its symbol (some come before they subscribe).
    assert count(result, "updates") >= produced * SUBSCRIBERS // len(SYMBOLS) // 2
