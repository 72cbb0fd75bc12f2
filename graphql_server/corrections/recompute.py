"""Recompute one symbol's indicators after its stored bars changed (``deleteBars``).

The bars in the market bucket are the truth after a correction, so the recompute runs the real
currents job (``python -m jobs.currents``, on its own mini-cluster: no task slot of the shared
cluster is needed) over exactly those bars, in time order, on a private pair of topics; then,
for the records from the first changed bar on, it deletes the indicators InfluxDB had (a record
whose value is now unknown, or a crossover that moved, must not survive), writes the new ones
and publishes them to the downstream topic (``analytics.currents``). Indicators before the
first changed bar depend only on earlier bars and are left as they are.

Not done here: the history topic ``market.bars.history`` keeps the bars that were deleted from
InfluxDB, and a streaming currents job keeps its state; restart it from a rebuilt history
topic to make later live values forget the deleted bars (see docs/graphql.md).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient

from connectors.sinks.influx import InfluxWriter
from connectors.sinks.kafka import KafkaSink, ensure_topics
from connectors.topic_reader import read_to_end
from graphql_server.corrections.store import END_OF_TIME_NS, CorrectionsStore
from graphql_server.flux import influx_client
from graphql_server.jobs.registry import JobHandle, JobState, Work
from graphql_server.validation import TimeRange
from streamlines.connections import kafka_client_config
from streamlines.contracts.events import AnalyticsRecord, HistoryBar, SchemaError
from streamlines.contracts.indicators import expand
from streamlines.contracts.influx import MEASUREMENT_CURRENTS
from streamlines.contracts.metrics import METRIC_VOLATILITY, VOLATILITY_TIMEFRAME
from streamlines.contracts.points import analytics_point
from streamlines.contracts.time import rfc3339_ns
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CURRENTS_TIMEOUT_S = 1800
_HISTORY_FIELDS = set(HistoryBar.model_fields)


def delete_points(
    settings: Settings, bucket: str, start_ns: int, stop_ns: int, predicate: str
) -> None:
    """InfluxDB's delete API over [start_ns, stop_ns] (both ends included, as the API does)."""
    with influx_client(settings) as client:
        client.delete_api().delete(
            rfc3339_ns(start_ns), rfc3339_ns(stop_ns), predicate, bucket=bucket,
            org=settings.influx_org,
        )  # fmt: skip


def predicate_string(value: str) -> str:
    """A string literal of InfluxDB's delete predicate syntax."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stored_bars(
    store: CorrectionsStore, symbol: str, timeframe: str, max_rows: int
) -> list[HistoryBar]:
    """Every stored bar of the series, oldest first, as the history topic carries them."""
    window = TimeRange.from_ns(0, END_OF_TIME_NS)
    rows = store.bars(symbol, timeframe, window, max_rows + 1)
    if len(rows) > max_rows:
        raise UserError(
            f"{symbol} has more than {max_rows:,} {timeframe} bars: too many to recompute in the "
            "server", "raise STREAMLINES_GRAPHQL_MAX_POINTS, or rerun the currents job instead",
        )  # fmt: skip
    bars: list[HistoryBar] = []
    for row in rows:
        fields = {k: v for k, v in row.values.items() if k in _HISTORY_FIELDS}
        if "trade_count" in fields:
            fields["trade_count"] = int(fields["trade_count"])
        keys = {"symbol": symbol, "timeframe": timeframe, "t_ns": row.t_ns}
        try:
            bar = HistoryBar.from_dict({**fields, **keys})
        except SchemaError as exc:
            log.warning("%s: stored bar at %d left out of the recompute: %s", symbol, row.t_ns, exc)
            continue
        bars.append(bar)
    return bars


def run_currents(settings: Settings, history_topic: str, output_topic: str) -> None:
    command = [
        sys.executable, "-m", "jobs.currents", "--local", "--bounded", "--parallelism", "1",
        "--bootstrap", settings.kafka_bootstrap, "--history-topic", history_topic,
        "--live-topic", "", "--output-topic", output_topic, *settings.graphql_currents_args,
    ]  # fmt: skip
    log.info("recompute: %s", " ".join(command))
    try:
        done = subprocess.run(
            command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=CURRENTS_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise UserError(
            f"the currents job did not finish within {CURRENTS_TIMEOUT_S} s",
            "see the server log; run the recompute again with deleteBars over an empty range",
        ) from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        log.error("recompute: the currents job failed (exit %d):\n%s", done.returncode, tail)
        last = tail.splitlines()[-1] if tail else "no output"
        raise UserError(
            f"the currents job failed (exit {done.returncode}): {last}",
            "see the GraphQL server's log for the job's output",
        )


def series_metrics(records: list[AnalyticsRecord], timeframe: str, existing: set[str]) -> set[str]:
    """The currents metrics of one timeframe: the recomputed ones and those stored before."""
    names = {r.metric for r in records} | existing
    own = {m for m in names if m.endswith(f"_{timeframe}")}
    if timeframe == VOLATILITY_TIMEFRAME and METRIC_VOLATILITY in names:
        own.add(METRIC_VOLATILITY)
    return own


def recompute(settings: Settings, symbol: str, timeframe: str, since_ns: int) -> Work:
    """The job: recompute ``symbol``'s indicators of ``timeframe`` from ``since_ns`` on."""

    def work(handle: JobHandle) -> JobState:
        handle.update(phase="reading the stored bars", total=3, done=0)
        store = CorrectionsStore(settings)
        try:
            bars = stored_bars(store, symbol, timeframe, settings.graphql_max_points)
            existing = store.metric_names(symbol, since_ns)
        finally:
            store.close()
        stem = f"streamlines.recompute.{handle.id}"
        bars_topic, records_topic = f"{stem}.bars", f"{stem}.currents"
        ensure_topics(settings, [bars_topic, records_topic], 1)
        try:
            wire = _compute(settings, handle, bars, bars_topic, records_topic, since_ns)
            handle.update(phase="replacing the stored indicators", done=2)
            records = [stored for record in wire for stored in expand(record)]
            metrics = series_metrics(records, timeframe, existing)
            records = [r for r in records if r.metric in metrics]
            _replace(settings, symbol, metrics, since_ns, records)
            _publish(settings, wire)
        finally:
            _delete_topics(settings, [bars_topic, records_topic])
        handle.update(
            done=3,
            items=len(records),
            result={"bars_read": len(bars), "records_written": len(records),
                    "metrics": ",".join(sorted(metrics))},
        )  # fmt: skip
        return JobState.SUCCEEDED

    return work


def _compute(
    settings: Settings,
    handle: JobHandle,
    bars: list[HistoryBar],
    bars_topic: str,
    records_topic: str,
    since_ns: int,
) -> list[AnalyticsRecord]:
    if not bars:
        return []
    sink = KafkaSink(settings, client_id="streamlines-recompute")
    try:
        for bar in bars:
            sink.send(bars_topic, bar)
        sink.flush(60)
    finally:
        sink.close(10)
    handle.update(phase="running the currents job", done=1)
    run_currents(settings, bars_topic, records_topic)
    records: list[AnalyticsRecord] = []
    for message in read_to_end(settings, records_topic):
        record = AnalyticsRecord.from_wire(message.value)
        if record.t_ns >= since_ns:
            records.append(record)
    return records


def _replace(
    settings: Settings,
    symbol: str,
    metrics: set[str],
    since_ns: int,
    records: list[AnalyticsRecord],
) -> None:
    bucket = settings.graphql_analytics_bucket
    for metric in sorted(metrics):
        predicate = (
            f"_measurement={predicate_string(MEASUREMENT_CURRENTS)} AND "
            f"symbol={predicate_string(symbol)} AND metric={predicate_string(metric)}"
        )
        delete_points(settings, bucket, since_ns, END_OF_TIME_NS, predicate)
    with InfluxWriter.from_settings(settings, bucket) as writer:
        writer.write(analytics_point(r, MEASUREMENT_CURRENTS) for r in records)
    log.info(
        "recompute of %s: replaced %s from %s with %d records",
        symbol, ", ".join(sorted(metrics)), rfc3339_ns(since_ns), len(records),
    )  # fmt: skip


def _publish(settings: Settings, records: list[AnalyticsRecord]) -> None:
    """The recomputed records, as the currents job wrote them, to the downstream topic."""
    sink = KafkaSink(settings, client_id="streamlines-recompute")
    try:
        for record in records:
            sink.send(settings.graphql_currents_topic, record)
        sink.flush(60)
    finally:
        sink.close(10)


def _delete_topics(settings: Settings, topics: list[str]) -> None:
    admin: Any = None
    try:
        config = kafka_client_config(settings)
        admin = KafkaAdminClient(**config, client_id="streamlines-recompute")
        admin.delete_topics(topics)
    except Exception as exc:  # leaving a private topic behind is not worth failing the job
        log.warning("could not delete the recompute topics %s: %s", topics, exc)
    finally:
        if admin is not None:
            admin.close()
