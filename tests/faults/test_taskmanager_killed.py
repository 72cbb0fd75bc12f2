"""Fault 1: the TaskManager is killed (``kill -9``) while ripples runs on a stream.

The job checkpoints (every 10 s, the cluster's configuration) and writes its topic, once with each
``--delivery``: exactly-once (Kafka transactions committed with each checkpoint) and
at-least-once (the default). Trades and quotes (generated from real
GOOG / S&P 500 / NASDAQ bars, as tests/integration/jobs/ripples) are sent a slice at a time
over ~40 s; a few seconds after a checkpoint, with output written since it, the TaskManager is
killed, and a new one started through the stack manager. The job restarts from its last
checkpoint: what came after the checkpoint is computed and written again (exactly-once: the
transaction it had open is aborted first).

Afterwards the topic read ``read_committed`` holds every record of the pandas reference (0
missing, 0 extra, 0 different; exactly-once: 0 repeated, at-least-once: the repeats counted) and
InfluxDB after `streamlines sink influx` holds exactly the reference in both cases (its points
are keyed by symbol, metric and time: a repeat overwrites). A last trade and quote per symbol
an hour later moves the watermark past everything, so every bar closes and the comparison is
exact, not "so far".
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pandas as pd
import pytest

from connectors.sinks.analytics import run_sink
from connectors.sinks.kafka import ensure_topics
from jobs.registry import JOBS
from streamlines.contracts.events import Quote, Trade
from streamlines.contracts.time import NS_PER_SECOND
from streamlines.stack.http import request_json
from streamlines.stack.services.flink import FlinkService
from tests.integration.jobs.ripples.test_job import DAY_NS, generated_events
from tests.references.ripples import reference_bars, reference_rolling, reference_spread
from tests.support.faults import (
    by_key,
    compare_to_reference,
    influx_analytics,
    new_bucket,
    read_topic,
    report,
)
from tests.support.flink import running_job
from tests.support.kafka import produce
from tests.support.private_stack import PrivateStack

SLICES = 28  # the 7 minutes of events in 15 s slices of event time
SLICE_PAUSE_S = 1.5  # between slices: ~40 s of sending
KILL_AFTER_CHECKPOINT_S = 4.0  # output is written since the last checkpoint, none committed
LATE_NS = 3600 * NS_PER_SECOND  # the last event per symbol: an hour after the rest


def slices(trades: pd.DataFrame, quotes: pd.DataFrame) -> list[tuple[list[Trade], list[Quote]]]:
    """The events in time order, cut into ``SLICES`` spans of event time."""
    span = (int(trades.t_ns.max()) - DAY_NS) // SLICES + 1
    out = []
    for i in range(SLICES):
        low, high = DAY_NS + i * span, DAY_NS + (i + 1) * span
        t = trades[(trades.t_ns >= low) & (trades.t_ns < high)].sort_values("t_ns")
        q = quotes[(quotes.t_ns >= low) & (quotes.t_ns < high)].sort_values("t_ns")
        out.append(
            (
                [Trade(symbol=r.symbol, t_ns=int(r.t_ns), price=float(r.price),
                       size=float(r.size), trade_id=int(r.trade_id), conditions=("@",))
                 for r in t.itertuples()],
                [Quote(symbol=r.symbol, t_ns=int(r.t_ns), bid_price=float(r.bid_price),
                       bid_size=float(r.bid_size), ask_price=float(r.ask_price),
                       ask_size=float(r.ask_size))
                 for r in q.itertuples()],
            )
        )  # fmt: skip
    return out


def closing_events(trades: pd.DataFrame) -> tuple[list[Trade], list[Quote]]:
    """One trade and one quote per symbol an hour after the last: the watermark passes every
    real event, so all their bars close. Their own results wait behind the watermark, never
    emitted."""
    t_ns = int(trades.t_ns.max()) + LATE_NS
    symbols = sorted(set(trades.symbol))
    return (
        [Trade(symbol=s, t_ns=t_ns, price=1.0, size=1.0, trade_id=999_999) for s in symbols],
        [Quote(symbol=s, t_ns=t_ns, bid_price=1.0, bid_size=1.0, ask_price=1.01, ask_size=1.0)
         for s in symbols],
    )  # fmt: skip


def checkpoints(fault_stack: PrivateStack, job_id: str) -> dict[str, Any]:
    url = f"{fault_stack.settings.flink_rest_url}/jobs/{job_id}/checkpoints"
    return request_json("GET", url, timeout=10)


def wait_for(what: str, check: Any, timeout: float, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(every)
    return result


def kill_after_a_checkpoint(fault_stack: PrivateStack, job_id: str) -> int:
    """Wait for the second completed checkpoint, then ``KILL_AFTER_CHECKPOINT_S`` more (output
    is being written meanwhile), and kill the TaskManager; returns the checkpoint's id."""

    def second() -> dict[str, Any] | None:
        latest = checkpoints(fault_stack, job_id)["latest"]["completed"]
        return latest if latest and latest["id"] >= 2 else None

    latest = wait_for("two completed checkpoints", second, timeout=120)
    acked_s = latest["latest_ack_timestamp"] / 1000
    time.sleep(max(0.0, acked_s + KILL_AFTER_CHECKPOINT_S - time.time()))
    now = checkpoints(fault_stack, job_id)["latest"]["completed"]
    fault_stack.kill("flink-taskmanager")
    return int(now["id"])


@pytest.mark.parametrize("delivery", ["exactly-once", "at-least-once"])
def test_a_killed_taskmanager_loses_nothing_and_repeats_nothing(
    fault_stack: PrivateStack, delivery: str
):
    """exactly-once: no record twice to a read_committed reader. at-least-once (the default,
    for latency): the records since the checkpoint are written again, and the stores, which
    write by (symbol, metric, t_ns), hold exactly the reference all the same."""
    settings, bootstrap = fault_stack.settings, fault_stack.settings.kafka_bootstrap
    trades, quotes = generated_events()
    expected = {
        "bar_1s": reference_bars(trades, 1),
        "bar_1m": reference_bars(trades, 60),
        "rolling_5m": reference_rolling(trades),
        "spread": reference_spread(trades, quotes),
    }
    expected_count = sum(len(frame) for frame in expected.values())
    prefix = f"fault1-{delivery}"
    trades_topic, quotes_topic, output = f"{prefix}.trades", f"{prefix}.quotes", f"{prefix}.ripples"
    ensure_topics(bootstrap, [trades_topic, quotes_topic, output])

    def send() -> None:
        for trade_slice, quote_slice in [*slices(trades, quotes), closing_events(trades)]:
            produce(bootstrap, trades_topic, trade_slice)
            produce(bootstrap, quotes_topic, quote_slice)
            time.sleep(SLICE_PAUSE_S)

    service = FlinkService(settings)
    with running_job(
        settings, JOBS["ripples"].file,
        "--bootstrap", bootstrap, "--trades-topic", trades_topic, "--quotes-topic", quotes_topic,
        "--output-topic", output, "--group-id", prefix, "--delivery", delivery,
    ) as job_id:  # fmt: skip
        sender = threading.Thread(target=send, name="fault1-events")
        sender.start()
        checkpoint = kill_after_a_checkpoint(fault_stack, job_id)
        killed_at = time.monotonic()
        written_before = len(read_topic(bootstrap, output, "read_uncommitted"))
        # The stack manager starts what is not running: a new TaskManager.
        fault_stack.stack.up(["flink"])

        def restored() -> dict[str, Any] | None:
            return checkpoints(fault_stack, job_id)["latest"].get("restored")

        restored_from = wait_for("the job's restore from a checkpoint", restored, timeout=180)
        service.wait_until_job_running(job_id, timeout=180)
        recovery_s = time.monotonic() - killed_at
        sender.join()

        def complete() -> bool:
            return len(by_key(read_topic(bootstrap, output, "read_committed"))[0]) >= expected_count

        wait_for("every reference record on the topic", complete, timeout=240, every=3)
        time.sleep(12)  # one more checkpoint: anything extra would be committed by now
        committed = read_topic(bootstrap, output, "read_committed")
        plain = read_topic(bootstrap, output, "read_uncommitted")

    on_topic, repeated = by_key(committed)
    _, plain_repeats = by_key(plain)
    topic_check = compare_to_reference(on_topic, expected)

    bucket = new_bucket(settings, prefix)
    run_sink(settings, output, bucket, group_id=f"{prefix}-sink", exit_when_idle=5,
             measurement="ripples")  # fmt: skip
    influx_check = compare_to_reference(influx_analytics(settings, bucket, "ripples"), expected)

    print(
        report(
            f"1 TaskManager killed ({delivery})",
            records_compared=influx_check.compared,
            lost=len(influx_check.missing),
            extra=len(influx_check.extra),
            different=len(influx_check.different),
            repeated_to_read_committed=repeated,
            aborted_repeats_a_plain_consumer_sees=plain_repeats,
            written_before_the_kill=written_before,
            restored_from_checkpoint=f"{restored_from['id']} (last completed {checkpoint})",
            time_to_recover_s=round(recovery_s, 1),
        )
    )
    assert restored_from["id"] == checkpoint, "not restored from the last completed checkpoint"
    assert topic_check.exact, f"topic (read_committed): {topic_check.summary()}"
    if delivery == "exactly-once":
        assert repeated == 0, f"{repeated} records repeated to a read_committed consumer"
    assert influx_check.exact, f"InfluxDB: {influx_check.summary()}"
    assert influx_check.compared == expected_count
