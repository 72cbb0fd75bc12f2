"""Fault 5, a job upgraded: stopped with a savepoint mid-stream and submitted again from it, it
gives the results of an uninterrupted run: ripples and currents on the stack's cluster, each on
topics of the test's own, through ``streamlines.submit`` (the service functions for ripples, the
``streamlines jobs`` commands for currents). Nothing here stops a service, so unlike the other
faults these run on the shared stack.

Each run: the first half of the input is sent, the job runs on it until its output stops
growing, ``stop`` takes a savepoint (the job ends), the second half is sent, the job is
submitted again ``--from-savepoint`` (without ``--allow-non-restored-state``: every piece of
state must find its operator, by uid), and the output is compared with the pandas reference
of the whole input (``tests/references``), which is what an uninterrupted run writes (the
integration tests of the jobs check that). At the end one more event per input, 10 minutes
(ripples) or 30 days (currents) later, moves the watermark past every real event so that every
window closes; nothing of those events is written, since their own results would wait for a
later watermark.

The output topic is read ``read_committed`` (a job that writes in Kafka transactions commits
them with each checkpoint; one that writes at least once is read as written). Delivery may be
at least once, so the comparison takes the latest record per (metric, symbol, t_ns) and counts
the repeats; with stop-with-savepoint there are none (the sources stop at the savepoint's
barrier, and the sink flushes or commits everything before it), and the tests assert that.

Without the savepoint the same tests fail (shown once by resubmitting without
``--from-savepoint``: ripples repeated 2,813 records, currents 5,295, each its whole first
half). A job resubmitted without state starts where its consumer group's committed offsets
are, or, with none, at the earliest offset (currents always): it then recomputes the first
half and writes all of it again (the ``repeated == 0`` assertion). Had a checkpoint committed
ripples' offsets before the stop, it would read only the second half with empty state instead:
5-minute windows without the first half's trades, bars across the restart without their first
trades, spreads without their quote (``assert_close``, and missing keys for the rows the stop
left waiting for the watermark).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd
import pytest
from kafka import KafkaConsumer

from connectors.sinks.kafka import ensure_topics
from streamlines.contracts.events import AnalyticsRecord, Bar
from streamlines.contracts.indicators import expand
from streamlines.contracts.time import NS_PER_DAY, NS_PER_MINUTE, NS_PER_SECOND
from streamlines.datasets import load_bars
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.submit.cluster import (
    Rest,
    find_job,
    rest_client,
    savepoint_directory,
    stop_with_savepoint,
)
from streamlines.submit.service import Restore, submit_command
from tests.integration.jobs.ripples.test_job import (
    DAY_NS,
    MINUTES,
    generated_events,
    late_trade_order,
    produce_events,
)
from tests.references import currents as currents_reference
from tests.references import ripples as ripples_reference
from tests.support import faults
from tests.support.kafka import produce

SCHEDULE_TIMEOUT_S = 600  # a job waits for a free task slot on a busy shared cluster
OUTPUT_TIMEOUT_S = 600
# Longer than a checkpoint interval (10 s): a transactional sink's output comes in its commits.
QUIET_S = 15
# Two submissions, each of which may wait for a slot, and their output.
pytestmark = pytest.mark.timeout(2 * SCHEDULE_TIMEOUT_S + 2 * OUTPUT_TIMEOUT_S)
Key = tuple[str, str, int]  # (metric, symbol, t_ns)


@dataclass
class Output:
    """What a job wrote: the latest values per key, and how many records repeated a key."""

    latest: dict[Key, dict[str, Any]] = field(default_factory=dict)
    records: int = 0
    repeated: int = 0

    def add(self, value: dict[str, Any]) -> None:
        key = (value["metric"], value["symbol"], value["t_ns"])
        self.records += 1
        if key in self.latest:
            self.repeated += 1
        self.latest[key] = value["values"]

    def by_metric(self) -> dict[str, dict[tuple[str, int], dict[str, Any]]]:
        grouped: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
        for (metric, symbol, t_ns), values in self.latest.items():
            grouped.setdefault(metric, {})[symbol, t_ns] = values
        return grouped


class OutputReader:
    """Reads a job's output topic from its start, as the job writes it."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.output = Output()
        self.consumer = KafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            consumer_timeout_ms=1_000,
        )

    def poll(self) -> Output:
        for record in self.consumer:  # as stored: currents' per-bar records by family
            for stored in expand(AnalyticsRecord.from_wire(record.value)):
                self.output.add(stored.model_dump())
        return self.output

    def until_quiet(self, *, at_least: int, quiet_s: float, timeout_s: float) -> Output:
        """Reads until ``at_least`` keys are in and nothing new came for ``quiet_s``."""
        deadline = time.monotonic() + timeout_s
        last_count, last_change = -1, time.monotonic()
        while True:
            count = self.poll().records
            now = time.monotonic()
            if count != last_count:
                last_count, last_change = count, now
            elif len(self.output.latest) >= at_least and now - last_change >= quiet_s:
                return self.output
            assert now < deadline, f"{len(self.output.latest)} keys after {timeout_s:g} s"

    def until_keys(self, keys: int, *, timeout_s: float, settle_s: float = QUIET_S) -> Output:
        """Reads until ``keys`` keys are in, then ``settle_s`` longer (repeats still coming)."""
        deadline = time.monotonic() + timeout_s
        while len(self.poll().latest) < keys:
            assert time.monotonic() < deadline, (
                f"{len(self.output.latest)} of {keys} keys after {timeout_s:g} s"
            )
        settle = time.monotonic() + settle_s
        while time.monotonic() < settle:
            self.poll()
        return self.output

    def close(self) -> None:
        self.consumer.close()


def submit(settings: Settings, job: str, args: list[str], restore: Restore | None = None) -> str:
    """``streamlines jobs submit`` (its command, from the service) of ``job``; the job's id."""
    command, env = submit_command(settings, job, args, local=False, detached=True, restore=restore)
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    match = re.search(r"JobID ([0-9a-f]{32})", result.stdout)
    assert match, result.stdout[-3000:]
    return match.group(1)


def wait_until_running(rest: Rest, job_id: str) -> None:
    """Every task of the job runs; fails at once with Flink's reason if the job fails (a
    savepoint whose state does not map fails the job as it starts)."""
    deadline = time.monotonic() + SCHEDULE_TIMEOUT_S
    while True:
        job = rest("GET", f"/jobs/{job_id}", None)
        if job["state"] in ("FAILED", "CANCELED", "FINISHED"):
            exceptions = rest("GET", f"/jobs/{job_id}/exceptions", None)
            root = str(exceptions.get("root-exception") or "")[:3000]
            raise AssertionError(f"job {job_id} {job['state']}: {root}")
        tasks = [vertex["status"] for vertex in job["vertices"]]
        # a bounded source (a history topic) may have finished before the last task ran
        if job["state"] == "RUNNING" and all(s in ("RUNNING", "FINISHED") for s in tasks):
            return
        assert time.monotonic() < deadline, f"job {job_id} not running: {job['state']} {tasks}"
        time.sleep(1)


def vertex_ids(rest: Rest, job_id: str) -> set[str]:
    """The job graph's vertex ids (each the hash of its first operator's uid)."""
    return {node["id"] for node in rest("GET", f"/jobs/{job_id}/plan", None)["plan"]["nodes"]}


@contextmanager
def cancelled_afterwards(rest: Rest, job_ids: list[str]) -> Iterator[None]:
    """Cancels the jobs of ``job_ids`` (filled in as the test submits them) that still run at
    the end, so a failing test leaves none of its own behind."""
    try:
        yield
    finally:
        for job_id in job_ids:
            with suppress(UserError):  # it has ended already
                rest("PATCH", f"/jobs/{job_id}?mode=cancel", None)


def savepoint_folder(location: str) -> Path:
    path = Path(urlparse(location).path)
    assert (path / "_metadata").is_file(), location
    return path


def report(job: str, before: int, output: Output, expected: int, resumed_s: float) -> None:
    print(
        faults.report(
            f"5 job upgraded ({job}: stopped with a savepoint, resubmitted from it)",
            records_compared=expected,
            written_before_the_stop=before,
            written_in_all=output.records,
            lost=expected - len(output.latest),
            repeated_across_the_restart=output.repeated,
            seconds_from_resubmit_to_complete=round(resumed_s, 1),
        )
    )


# ripples


def split_ripples_input() -> tuple[tuple[pd.DataFrame, pd.DataFrame, list[int]], ...]:
    """((trades, quotes, sending order) of the first half, of the second half with one more
    trade and quote 10 minutes after the rest, of the whole without them)."""
    trades, quotes = generated_events()
    order, _ = late_trade_order(trades)
    split = DAY_NS + 3 * NS_PER_MINUTE + 30 * NS_PER_SECOND
    first = [i for i in order if trades.t_ns[i] < split]
    second = [i for i in order if trades.t_ns[i] >= split]
    end = DAY_NS + (MINUTES + 10) * NS_PER_MINUTE
    last_trade = trades.loc[order[-1]]
    last_quote = quotes.iloc[-1]
    closing_trade = pd.DataFrame(
        {"symbol": ["GOOG"], "t_ns": [end], "price": [last_trade.price], "size": [1.0],
         "trade_id": [10**9]},
        index=[len(trades)],
    )  # fmt: skip
    closing_quote = last_quote.to_frame().T.assign(symbol="GOOG", t_ns=end)
    in_first = quotes.t_ns < split
    return (
        (trades, quotes[in_first], first),
        (
            pd.concat([trades, closing_trade]),
            pd.concat([quotes[~in_first], closing_quote], ignore_index=True),
            [*second, len(trades)],
        ),
        (trades, quotes, order),
    )


def check_ripples(output: Output, expected: dict[str, pd.DataFrame]) -> None:
    ripples_reference.assert_records_match(output.by_metric(), expected)


def test_ripples_resumes_from_its_savepoint(stack, settings, unique_name, tmp_path):
    (trades_1, quotes_1, order_1), (trades_2, quotes_2, order_2), whole = split_ripples_input()
    expected = ripples_reference.reference_records(whole[0], whole[1])
    expected_keys = sum(map(len, expected.values()))
    output_topic = f"{unique_name}-ripples"
    ensure_topics(settings.kafka_bootstrap, [output_topic])
    args = [
        "--trades-topic", f"{unique_name}-trades", "--quotes-topic", f"{unique_name}-quotes",
        "--output-topic", output_topic, "--group-id", unique_name, "--idle-timeout", "1",
    ]  # fmt: skip
    rest = rest_client(settings)
    reader = OutputReader(settings, output_topic)
    job_ids: list[str] = []
    try:
        with cancelled_afterwards(rest, job_ids):
            produce_events(settings.kafka_bootstrap, unique_name, trades_1, quotes_1, order_1)
            job_ids.append(submit(settings, "ripples", args))
            wait_until_running(rest, job_ids[0])
            before = reader.until_quiet(at_least=100, quiet_s=QUIET_S, timeout_s=OUTPUT_TIMEOUT_S)
            before_count = before.records
            assert before.by_metric().get("bar_1m"), "the first half closed no minute bar"
            assert len(before.latest) < expected_keys
            graph = vertex_ids(rest, job_ids[0])

            job = find_job(rest, job_ids[0])
            directory = savepoint_directory(settings, rest, str(tmp_path / "savepoints"))
            savepoint = stop_with_savepoint(rest, job, directory)
            assert savepoint.state == "FINISHED"
            savepoint_folder(savepoint.location)

            produce_events(settings.kafka_bootstrap, unique_name, trades_2, quotes_2, order_2)
            resubmitted = time.monotonic()
            job_ids.append(submit(settings, "ripples", args, Restore(savepoint.location)))
            wait_until_running(rest, job_ids[1])
            assert vertex_ids(rest, job_ids[1]) == graph
            output = reader.until_keys(expected_keys, timeout_s=OUTPUT_TIMEOUT_S)
            resumed_s = time.monotonic() - resubmitted
    finally:
        reader.close()
    report("ripples", before_count, output, expected_keys, resumed_s)
    check_ripples(output, expected)
    assert output.repeated == 0, f"{output.repeated} records repeated across the restart"


# currents


def goog_daily_bars() -> tuple[list[Bar], list[Bar], pd.Series]:
    """(first half, second half plus one bar 30 days after the last, the closes by t_ns) of
    GOOG's real daily bars as live bars."""
    goog = load_bars("GOOG")
    bars = [
        Bar(symbol="GOOG", t_ns=int(ts.value), timeframe="1Day", open=float(row.open),
            high=float(row.high), low=float(row.low), close=float(row.close),
            volume=float(row.volume))
        for ts, row in zip(goog.index, goog.itertuples(), strict=True)
    ]  # fmt: skip
    closing = bars[-1].model_copy(update={"t_ns": bars[-1].t_ns + 30 * NS_PER_DAY})
    half = len(bars) // 2
    close = pd.Series(goog.close.to_numpy(), index=goog.index.asi8)
    return bars[:half], [*bars[half:], closing], close


def streamlines_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``streamlines <args>`` as a user runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "streamlines.cli", *args], capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_currents_resumes_from_its_savepoint_through_the_cli(stack, settings, unique_name):
    """The same with the commands: ``streamlines jobs list``, ``streamlines jobs stop NAME``
    (the cluster's default savepoint directory) and ``streamlines jobs submit currents
    --from-savepoint PATH``; the recursive indicators' state is Python keyed state (uid
    currents-per-bar), the SMAs' and Bollinger bands' SQL OVER windows."""
    first, second, close = goog_daily_bars()
    expected = currents_reference.expected_indicators(close, "1Day")
    expected_keys = sum(map(len, expected.values()))
    live, output_topic = f"{unique_name}-bars", f"{unique_name}-currents"
    ensure_topics(settings.kafka_bootstrap, [live, output_topic])
    args = ["--history-topic", "", "--live-topic", live, "--output-topic", output_topic]
    rest = rest_client(settings)
    reader = OutputReader(settings, output_topic)
    job_ids: list[str] = []
    location = None
    try:
        with cancelled_afterwards(rest, job_ids):
            produce(settings.kafka_bootstrap, live, first)
            job_ids.append(submit(settings, "currents", args))
            wait_until_running(rest, job_ids[0])
            before = reader.until_quiet(at_least=1_000, quiet_s=QUIET_S, timeout_s=OUTPUT_TIMEOUT_S)
            before_count = before.records
            assert len(before.latest) < expected_keys
            listed = streamlines_cli("jobs", "list").stdout
            assert f"{job_ids[0]}  currents {live}" in listed
            graph = vertex_ids(rest, job_ids[0])

            stopped = streamlines_cli("jobs", "stop", f"currents {live}")
            location = stopped.stdout.strip()
            default_dir = settings.state_dir / "flink" / "savepoints"
            assert savepoint_folder(location).parent == default_dir
            assert rest("GET", f"/jobs/{job_ids[0]}", None)["state"] == "FINISHED"

            produce(settings.kafka_bootstrap, live, second)
            resubmitted = time.monotonic()
            resumed = streamlines_cli(
                "jobs", "submit", "currents", "--from-savepoint", location, *args
            )
            match = re.search(r"JobID ([0-9a-f]{32})", resumed.stdout)
            assert match, resumed.stdout
            job_ids.append(match.group(1))
            wait_until_running(rest, job_ids[1])
            assert vertex_ids(rest, job_ids[1]) == graph
            output = reader.until_keys(expected_keys, timeout_s=OUTPUT_TIMEOUT_S)
            resumed_s = time.monotonic() - resubmitted
    finally:
        reader.close()
        if location:
            shutil.rmtree(urlparse(location).path, ignore_errors=True)
    report("currents", before_count, output, expected_keys, resumed_s)
    got = output.by_metric()
    assert set(got) == set(expected)
    for metric, frame in expected.items():
        records = {t: v for (s, t), v in got[metric].items() if s == "GOOG"}
        assert sorted(records) == list(frame.index), metric
        for t_ns, row in frame.iterrows():
            currents_reference.assert_close(records[t_ns], row.to_dict(), f"{metric} {t_ns}")
    assert output.repeated == 0, f"{output.repeated} records repeated across the restart"
