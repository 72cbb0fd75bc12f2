"""The README's main command end to end on the real local stack: replay feed → ingest →
Kafka → ripples and currents (Flink) → analytics.ripples / analytics.currents → InfluxDB →
the GraphQL server, whose dashboard URL it prints."""

from __future__ import annotations

import re
import time

from graphql_server.client import GraphQLClientError, query
from streamlines.contracts.topics import TOPIC_CURRENTS, TOPIC_RIPPLES
from streamlines.demo.service import TopicCounter, dashboard_url
from tests.support.processes import start_cli


def test_demo_runs_the_pipeline_into_influxdb_and_graphql(stack, settings, influx, read_topic):
    counter = TopicCounter(settings.kafka_bootstrap)
    currents_before = counter.totals([TOPIC_CURRENTS])[TOPIC_CURRENTS]
    demo = start_cli("demo", "--duration", "60", "--keep-stack")
    symbols: list[str] = []
    deadline = time.monotonic() + 240
    while demo.poll() is None and time.monotonic() < deadline and "GOOG" not in symbols:
        time.sleep(2)
        try:
            symbols = query(settings.graphql_url, "{ symbols }")["symbols"]
        except (OSError, GraphQLClientError):
            continue  # not up yet, or nothing written yet
    out, err = demo.communicate(timeout=300)
    assert demo.returncode == 0, err[-3000:]
    assert "GOOG" in symbols, f"GraphQL never listed GOOG: {symbols}\n{err[-2000:]}"
    assert settings.graphql_url in out
    assert dashboard_url(settings) in out  # ?symbol=GOOG&timeframe=1Min
    assert "ripples out:" in err
    assert "currents out:" in err
    assert "cancelled ripples job" in err  # it stops what it started
    assert "cancelled currents job" in err
    # Stocks and crypto on one replay timeline, and no records of an earlier run read: the job
    # dropped no trade as late (it did both before: crypto replayed the night before the
    # stock session; an earlier run's last records put the watermark ahead of this run's).
    # Any whitespace between the words: the test does not depend on how the line is laid out.
    late = re.findall(r"dropped\s+as\s+late:\s+([0-9,?…]+)", err)
    assert late, err[-2000:]
    assert late[-1] == "0", err[-2000:]

    assert read_topic(TOPIC_RIPPLES, 1), "no analytics records"
    tables = influx.query_api().query(
        """
from(bucket: "analytics")
  |> range(start: 1990-01-01T00:00:00Z, stop: 2030-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == "ripples" and r.metric == "bar_1m")
  |> filter(fn: (r) => r._field == "vwap")
  |> group(columns: ["symbol"])
  |> count()
"""
    )
    counts = {r["symbol"]: r.get_value() for t in tables for r in t}
    assert counts.get("GOOG", 0) > 0, counts

    # currents ran on the live bars: 60 replayed minutes are more than SMA(20) needs, and its
    # sink wrote them.
    try:
        assert counter.totals([TOPIC_CURRENTS])[TOPIC_CURRENTS] > currents_before
    finally:
        counter.close()
    tables = influx.query_api().query(
        """
from(bucket: "analytics")
  |> range(start: 1990-01-01T00:00:00Z, stop: 2030-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == "currents" and r.metric == "sma_1Min")
  |> filter(fn: (r) => r._field == "sma_20" and r.symbol == "GOOG")
  |> count()
"""
    )
    assert [r.get_value() for t in tables for r in t] != [], "no currents in InfluxDB"
