"""The whole path on the real stack: replay server (alpaca protocol, with malformed frames mixed
in) → ``streamlines ingest`` → Kafka → ripples on the Flink cluster → ``analytics.*`` topic →
``streamlines sink influx`` → InfluxDB → GraphQL queries and a live subscription.

The known trades are the replay server's (intraday trades generated from real daily GOOG and
S&P 500 bars, seeded), asked of its REST API; the bars, VWAPs, rolling statistics and spreads
everywhere downstream must equal an independent pandas computation on them (1e-9 relative).
Everything runs on topics, a consumer group and a bucket of this test's own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pandas as pd
import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.topic_reader import read_to_end
from graphql_server.client import SubscriptionReader, query
from streamlines.child import graphql_server_process, replay_server_process
from streamlines.contracts.events import Quote, Trade
from streamlines.contracts.metrics import RIPPLES_METRICS
from streamlines.contracts.topics import dead_letter_topic
from streamlines.stack.services.flink import FlinkService
from tests.references.ripples import (
    assert_close,
    reference_bars,
    reference_rolling,
    reference_spread,
)
from tests.support.replay import ReplayServer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYMBOLS = ("GOOG", "SP500")
INGEST_SECONDS = 40
REPLAY_SPEED = 60
# The watermark bound is event time: at 60x, 60 s of it is one second of wall-clock slack for
# the two sources' reading skew (2 s would be 33 ms, and a quote read a little after the trades
# would miss the as-of join), as `streamlines demo` sets it too.
OUT_OF_ORDERNESS_S = REPLAY_SPEED
# Records whose time is this far behind the newest event may still be held back by the
# watermark (the bound plus a 1-minute window) when ingest stops.
SETTLE_NS = (OUT_OF_ORDERNESS_S + 65) * 1_000_000_000


@pytest.fixture
def names(unique_name: str) -> dict[str, str]:
    return {kind: f"{unique_name}.{kind}" for kind in ("trades", "quotes", "bars", "ripples")}


@pytest.fixture
def topics(stack, settings, names) -> dict[str, str]:
    wanted = [
        *names.values(),
        dead_letter_topic(names["trades"]),
        dead_letter_topic(names["quotes"]),
    ]
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in wanted])
    admin.close()
    return names


@pytest.fixture
def ripples_job(settings, topics, unique_name) -> Iterator[str]:
    command, env = FlinkService(settings).cli_command(
        "run", "-d", "-py", os.path.join(REPO, "jobs", "ripples", "__main__.py"),
        "--bootstrap", settings.kafka_bootstrap,
        "--trades-topic", topics["trades"], "--quotes-topic", topics["quotes"],
        "--output-topic", topics["ripples"], "--group-id", unique_name, "--idle-timeout", "1",
        "--out-of-orderness", str(OUT_OF_ORDERNESS_S),
    )  # fmt: skip
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    match = re.search(r"JobID ([0-9a-f]{32})", result.stdout)
    assert match, result.stdout[-3000:] + result.stderr[-3000:]
    yield match.group(1)
    url = f"{settings.flink_rest_url}/jobs/{match.group(1)}?mode=cancel"
    urllib.request.urlopen(urllib.request.Request(url, method="PATCH"), timeout=10).close()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "streamlines.cli", *args]


class Subscriber(SubscriptionReader):
    """A GraphQL subscription read in a thread until stopped: (arrival time, data) pairs."""

    def __init__(self, url: str, document: str) -> None:
        super().__init__(url, document, self._receive)
        self.received: list[tuple[float, dict]] = []

    def _receive(self, data: dict) -> None:
        self.received.append((time.monotonic(), data))


def wait_until_quiet(bootstrap: str, topic: str, quiet_s: float = 12, limit_s: float = 240) -> int:
    """Wait until the topic has had no new record for ``quiet_s``; returns its record count."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tp = TopicPartition(topic, 0)
        last, since, deadline = -1, time.monotonic(), time.monotonic() + limit_s
        while time.monotonic() < deadline:
            end = consumer.end_offsets([tp])[tp]
            if end != last:
                last, since = end, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return end
            time.sleep(1)
        raise AssertionError(f"{topic} kept growing for {limit_s} s")
    finally:
        consumer.close()


def replay_rest_trades(port: int, symbol: str, start: str, end: str) -> list[tuple[int, float]]:
    """The replay server's trades of a symbol over [start, end), from its REST API (paginated)."""
    server, out, token = ReplayServer(port), [], None
    while True:
        page: dict[str, str] = {"page_token": token} if token else {}
        body = server.call(
            "GET", "/v2/stocks/trades", symbols=symbol, start=start, end=end, limit=10000, **page
        )
        out += [(pd.Timestamp(t["t"]).value, t["p"]) for t in body["trades"].get(symbol, [])]
        token = body.get("next_page_token")
        if not token:
            return out


def influx_records(influx, bucket: str) -> dict[str, dict[tuple[str, int], dict]]:
    tables = influx.query_api().query(
        """
from(bucket: bucket_name)
  |> range(start: 2000-01-01T00:00:00Z, stop: 2030-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == "ripples")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
""",
        params={"bucket_name": bucket},
    )
    out: dict[str, dict[tuple[str, int], dict]] = {}
    skip = {"result", "table", "_start", "_stop", "_time", "_measurement", "symbol", "metric"}
    for table in tables:
        for r in table.records:
            values = {k: v for k, v in r.values.items() if k not in skip and k != "t_ns"}
            out.setdefault(r["metric"], {})[(r["symbol"], r["t_ns"])] = {
                k: v for k, v in values.items() if v is not None
            }
    return out


def check_against_reference(
    got: dict[str, dict[tuple[str, int], dict]],
    expected: dict[str, pd.DataFrame],
    complete_before_ns: int,
    where: str,
) -> None:
    """Every record equals the reference, and none due before ``complete_before_ns`` is missing."""
    for metric, frame in expected.items():
        records = got.get(metric, {})
        rows = {(r.pop("symbol"), int(r.pop("t_ns"))): r for r in frame.to_dict("records")}
        for key, values in records.items():
            assert key in rows, f"{where}: {metric} {key} is not in the reference"
            # InfluxDB stores no nulls: a field missing there is a null of the reference
            want = rows[key]
            assert_close({k: values.get(k) for k in want}, want, f"{where} {metric} {key}")
        due = [k for k in rows if k[1] < complete_before_ns]
        missing = [k for k in due if k not in records]
        assert not missing, f"{where}: {len(missing)} of {len(due)} {metric} missing: {missing[:3]}"


def test_replayed_trades_reach_influxdb_the_topic_and_graphql_equal_to_pandas(
    stack, settings, topics, ripples_job, bucket, influx, unique_name, tmp_path
):
    bootstrap = settings.kafka_bootstrap
    replay_args = ("--symbols", ",".join(SYMBOLS), "--speed", str(REPLAY_SPEED),
                   "--start", "2012-01-03", "--trades-per-minute", "20",
                   "--malformed-every", "9")  # fmt: skip
    with (
        replay_server_process(*replay_args, log_path=tmp_path / "replay.log") as port,
        open(tmp_path / "sink.log", "wb") as sink_log,
        graphql_server_process(
            {
                "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": bucket,
                "STREAMLINES_GRAPHQL_RIPPLES_TOPIC": topics["ripples"],
            },
            log_path=tmp_path / "graphql.log",
        ) as graphql,
    ):
        sink = subprocess.Popen(
            cli("sink", "influx", "--topic", topics["ripples"], "--bucket", bucket,
                "--measurement", "ripples", "--group-id", unique_name),
            stdout=sink_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        live_document = """subscription { ripples(symbols: ["GOOG"], metrics: [BAR_1S]) {
                             symbol metric tNs values } }"""
        try:
            with Subscriber(graphql, live_document) as live:
                env = {
                    **os.environ,
                    "STREAMLINES_REPLAY_PORT": str(port),
                    "STREAMLINES_INGEST_TOPIC_TRADES": topics["trades"],
                    "STREAMLINES_INGEST_TOPIC_QUOTES": topics["quotes"],
                    "STREAMLINES_INGEST_TOPIC_BARS": topics["bars"],
                }
                ingest = subprocess.run(
                    cli("ingest", "--symbols", ",".join(SYMBOLS), "--crypto", "",
                        "--duration", str(INGEST_SECONDS)),
                    env=env, capture_output=True, text=True, timeout=INGEST_SECONDS + 120,
                )  # fmt: skip
                assert ingest.returncode == 0, ingest.stderr[-3000:]
                produced = wait_until_quiet(bootstrap, topics["ripples"])
            assert live.error is None, live.error
            # the sink has copied everything once its group has committed the topic's end
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if sum(len(m) for m in influx_records(influx, bucket).values()) >= produced:
                    break
                time.sleep(2)

            # -- the known trades: what ingest produced is what the replay server serves
            trades = pd.DataFrame(
                [
                    Trade.from_wire(r.value).model_dump()
                    for r in read_to_end(bootstrap, topics["trades"])
                ]
            )
            quotes = pd.DataFrame(
                [
                    Quote.from_wire(r.value).model_dump()
                    for r in read_to_end(bootstrap, topics["quotes"])
                ]
            )
            assert set(trades.symbol) == set(SYMBOLS)
            for symbol, group in trades.groupby("symbol"):
                first, last = pd.Timestamp(group.t_ns.min()), pd.Timestamp(group.t_ns.max())
                served = replay_rest_trades(
                    port, symbol, first.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    (last + pd.Timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                )  # fmt: skip
                served = [(t, p) for t, p in served if first.value <= t <= last.value]
                assert list(zip(group.t_ns, group.price, strict=True)) == served, symbol

            dead = read_to_end(bootstrap, dead_letter_topic(topics["trades"]))
            assert dead, "no malformed frame reached the dead-letter topic"
            assert all("msgpack" in json.loads(r.value)["reason"] for r in dead)

            trades = trades.sort_values(["symbol", "t_ns"], kind="stable", ignore_index=True)
            quotes = quotes.sort_values(["symbol", "t_ns"], kind="stable", ignore_index=True)
            expected = {
                "bar_1s": reference_bars(trades, 1),
                "bar_1m": reference_bars(trades, 60),
                "rolling_5m": reference_rolling(trades),
                "spread": reference_spread(trades, quotes),
            }
            assert set(expected) == set(RIPPLES_METRICS)
            due = int(trades.t_ns.max()) - SETTLE_NS
            assert len(expected["bar_1m"]) >= 20, "too little data to mean anything"

            # -- the downstream topic
            on_topic: dict[str, dict[tuple[str, int], dict]] = {}
            for record in read_to_end(bootstrap, topics["ripples"]):
                value = json.loads(record.value)
                assert record.key == value["symbol"].encode()
                on_topic.setdefault(value["metric"], {})[(value["symbol"], value["t_ns"])] = value[
                    "values"
                ]
            check_against_reference(on_topic, expected, due, "analytics topic")

            # -- InfluxDB
            stored = influx_records(influx, bucket)
            check_against_reference(stored, expected, due, "InfluxDB")
            assert {m: len(v) for m, v in stored.items()} == {
                m: len(v) for m, v in on_topic.items()
            }

            # -- GraphQL queries
            goog = trades[trades.symbol == "GOOG"]
            start = pd.Timestamp(goog.t_ns.min()).floor("min")
            end = pd.Timestamp(goog.t_ns.max()).ceil("min")
            bars = query(
                graphql,
                """query($a: DateTime!, $b: DateTime!) { bars(symbol: "GOOG", timeframe: MINUTE_1,
                     start: $a, end: $b) { tNs open high low close volume vwap tradeCount } }""",
                {"a": start.isoformat(), "b": end.isoformat()},
            )["bars"]
            stored_1m = {k: v for k, v in stored["bar_1m"].items() if k[0] == "GOOG"}
            assert [int(b["tNs"]) for b in bars] == sorted(t for _, t in stored_1m)
            reference_1m = expected["bar_1m"].set_index(["symbol", "t_ns"])
            for b in bars:
                row = reference_1m.loc[("GOOG", int(b["tNs"]))]
                assert_close(
                    {**b, "count": b["tradeCount"]},
                    {
                        k: row[k]
                        for k in ("open", "high", "low", "close", "volume", "vwap", "count")
                    },
                    f"GraphQL bar {b['tNs']}",
                )
            rolling = query(
                graphql,
                """query($a: DateTime!, $b: DateTime!) { ripples(symbol: "GOOG",
                     metric: ROLLING_5M, start: $a, end: $b) { tNs values } }""",
                {"a": start.isoformat(), "b": end.isoformat()},
            )["ripples"]
            assert len(rolling) == len([k for k in stored["rolling_5m"] if k[0] == "GOOG"])
            check_against_reference(
                {"rolling_5m": {("GOOG", int(p["tNs"])): p["values"] for p in rolling}},
                {"rolling_5m": expected["rolling_5m"][expected["rolling_5m"].symbol == "GOOG"]},
                due,
                "GraphQL",
            )

            # -- the live subscription got each GOOG 1-second bar as it was published
            updates = [data["ripples"] for _, data in live.received]
            assert len(updates) >= 30, f"only {len(updates)} live updates"
            published = {k: v for k, v in on_topic["bar_1s"].items() if k[0] == "GOOG"}
            assert [int(u["tNs"]) for u in updates] == sorted(t for _, t in published)
            for u in updates:
                assert u["values"] == published[("GOOG", int(u["tNs"]))]
            arrivals = [t for t, _ in live.received]
            assert arrivals[-1] - arrivals[0] > INGEST_SECONDS / 2, "updates were not live"

            # -- a new subscription starts with the latest value
            latest = max(published)
            with Subscriber(graphql, live_document) as late:
                deadline = time.monotonic() + 30
                while not late.received and time.monotonic() < deadline:
                    time.sleep(0.2)
            assert late.received, late.error
            assert int(late.received[0][1]["ripples"]["tNs"]) == latest[1]
        finally:
            sink.terminate()
            sink.wait(30)
