"""Scale-out (docs/cluster.md, "Scaling out"): the jobs on a cluster of two TaskManagers with two
slots each, reading topics of four partitions, at parallelism 1, 2 and 4.

The cluster is a private stack of this module's own (Kafka and Flink on ports and in a
directory of their own, ``tests/support/private_stack.py``), so the shared stack's slots stay
free for the other tests. Its settings are the ones a user sets to scale out:
``STREAMLINES_FLINK_TASKMANAGERS=2`` and ``STREAMLINES_KAFKA_TOPIC_PARTITIONS=4``.

Each job reads the same input at each parallelism: the input of its own integration test
(tests/integration/jobs/<job>), keyed by symbol, so each symbol's records are in one partition and
several symbols are spread over the partitions, one partition left without records. Every
output record must equal the pandas reference, and the records of parallelism 2 and 4 must be
the very same as parallelism 1's (same keys, same values, bit for bit; beacons, an upsert
stream: the last record of each key): ripples and currents key every stateful step by symbol,
so a symbol's records meet in one subtask in event-time order whatever the parallelism, and
beacons' per-symbol book places each input by event time; narwhal (with a model trained in the
test on real GOOG features) keys its features function by symbol and scores each bar from its
own window, so its predictions, at every parallelism, are the batch scoring's
(``ml.artifacts.predict``) of the same bars. At parallelism 4 the job's subtasks run on both
TaskManagers.

Watermarks with quiet partitions: ``test_quiet_partitions_*`` (ripples, the only job with an idle
timeout; currents and narwhal have none on purpose, see their module docs, so a streaming run
of theirs waits for every partition of the live topic to have records: in a bounded run, as here,
each partition's end of input moves its watermark to the end of time).

Figures (records compared, equal to parallelism 1, seconds per run) are printed per run.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kafka import KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord

from connectors.sinks.kafka import ensure_topics
from jobs.registry import JOBS
from ml.models import LocalModelStore
from streamlines.contracts.events import Prediction, Trade
from streamlines.contracts.topics import dead_letter_topic
from streamlines.datasets import load_bars
from streamlines.settings import Settings
from streamlines.stack.http import request_json
from tests.integration.jobs.beacons.test_job import (
    check_goog_events,
    check_sp500_valuation,
    latest_records,
)
from tests.integration.jobs.currents.test_job import (
    MINUTE_SPLIT,
    check_indicators,
    expected_count,
    minute_bars,
    minute_events,
    read_records,
    wire_count,
)
from tests.integration.jobs.narwhal.test_job import bar_events, indicator_events
from tests.integration.jobs.ripples.test_job import (
    check_output,
    generated_events,
    late_trade_order,
    produce_events,
)
from tests.references import currents as currents_reference
from tests.references.features import with_indicators
from tests.references.ripples import assert_close, reference_bars
from tests.support.beacons import (
    daily_history_bars,
    fundamentals,
    goog_announcement_events,
    shiller_facts,
)
from tests.support.flink import run_job, running_job
from tests.support.kafka import AnalyticsRecords, analytics_by_metric, produce, read_first
from tests.support.narwhal import batch_predictions, goog_bars, train_goog_model
from tests.support.narwhal import config as training_config
from tests.support.private_stack import PrivateStack, private_stack
from tests.support.topic_offsets import end_offsets

PARTITIONS = 4
TASKMANAGERS = 2
SLOTS_PER_TASKMANAGER = 2
SCALE_OUT_SETTINGS = {
    "flink_taskmanagers": str(TASKMANAGERS),
    "flink_taskmanager_slots": str(SLOTS_PER_TASKMANAGER),
    "kafka_topic_partitions": str(PARTITIONS),
    # Three jobs submitted side by side, and the finished ones it keeps: more than the private
    # stack's 768m (its heap ran out at 768m).
    "flink_jobmanager_memory": "1024m",
}
# Run side by side first (1 + 2 of the 4 slots), then the one that takes every slot.
SIDE_BY_SIDE, ALONE = (1, 2), 4
RUN_TIMEOUT_S = 900
# currents: the minute bars this long before and after the split (history, then live).
CURRENTS_SPAN_NS = 6 * 3600 * 10**9


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    """Kafka and Flink of this module's own: 2 TaskManagers x 2 slots, topics of 4 partitions."""
    folder = tmp_path_factory.mktemp("scale-out-stack")
    with private_stack(folder, ["kafka", "flink"], SCALE_OUT_SETTINGS) as stack:
        overview = request_json("GET", f"{stack.settings.flink_rest_url}/overview", timeout=10)
        assert (overview["taskmanagers"], overview["slots-total"]) == (
            TASKMANAGERS,
            TASKMANAGERS * SLOTS_PER_TASKMANAGER,
        )
        yield stack


@dataclass(frozen=True)
class Run:
    parallelism: int
    output_topic: str
    job_id: str
    seconds: float


def run_at(settings: Settings, job: Path, args: list[str], output: str, parallelism: int) -> Run:
    """The bounded job at ``parallelism`` on the cluster, to its end, writing ``output``."""
    started = time.monotonic()
    result = run_job(
        settings, job, *args, "--output-topic", output, "--parallelism", str(parallelism),
        timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    match = re.search(r"JobID ([0-9a-f]{32})", result.stdout + result.stderr)
    assert match, result.stdout[-3000:]
    return Run(parallelism, output, match.group(1), time.monotonic() - started)


def run_each_parallelism(settings: Settings, job: Path, args: list[str], prefix: str) -> list[Run]:
    """The job at parallelism 1 and 2 side by side, then at 4; each writes a topic of its own."""
    outputs = {p: f"{prefix}-out-p{p}" for p in (*SIDE_BY_SIDE, ALONE)}
    ensure_topics(settings.kafka_bootstrap, list(outputs.values()), settings.kafka_topic_partitions)
    with ThreadPoolExecutor(len(SIDE_BY_SIDE)) as pool:
        futures = [pool.submit(run_at, settings, job, args, outputs[p], p) for p in SIDE_BY_SIDE]
        runs = [future.result() for future in futures]
    return [*runs, run_at(settings, job, args, outputs[ALONE], ALONE)]


def taskmanagers_of(settings: Settings, job_id: str) -> set[str]:
    """The TaskManagers the job's subtasks ran on (the JobManager keeps a finished job's)."""
    url = f"{settings.flink_rest_url}/jobs/{job_id}"
    found: set[str] = set()
    for vertex in request_json("GET", url, timeout=10)["vertices"]:
        listed = request_json("GET", f"{url}/vertices/{vertex['id']}/taskmanagers", timeout=10)
        found |= {tm["taskmanager-id"] for tm in listed["taskmanagers"]}
    return found


def reader(bootstrap: str) -> Callable[..., list[ConsumerRecord]]:
    """``read(topic, count, idle_ms)``: the first ``count`` records of a topic, from the start
    (fewer if none come for ``idle_ms``): conftest's ``read_topic``, for this stack."""

    def read(topic: str, count: int, idle_ms: int = 10_000) -> list[ConsumerRecord]:
        return read_first(bootstrap, topic, count, idle_ms)

    return read


def assert_spread(bootstrap: str, topic: str) -> dict[int, int]:
    """The records per partition: several partitions have some, at least one has none."""
    counts = end_offsets(bootstrap, topic)
    assert len(counts) == PARTITIONS
    assert sum(1 for n in counts.values() if n) >= 2, counts
    assert 0 in counts.values(), counts
    return counts


def compare_runs(
    job: str,
    settings: Settings,
    runs: list[Run],
    results: dict[int, AnalyticsRecords],
    show: Callable[[str], None],
) -> None:
    """Every run wrote the records of parallelism 1, with the same keys and values, bit for
    bit; the run at the highest parallelism used both TaskManagers. Prints each run's
    figures."""
    first = results[1]
    for run in runs:
        got = results[run.parallelism]
        compared = sum(map(len, got.values()))
        identical = sum(
            1
            for metric, records in got.items()
            for key, values in records.items()
            if first.get(metric, {}).get(key) == values
        )
        show(
            f"SCALE-OUT {job} parallelism {run.parallelism}: {compared} records compared, "
            f"{identical} identical to parallelism 1's, {run.seconds:.0f} s"
        )
        assert {m: set(r) for m, r in got.items()} == {m: set(r) for m, r in first.items()}
        assert identical == compared, run
    widest = max(runs, key=lambda run: run.parallelism)
    assert len(taskmanagers_of(settings, widest.job_id)) == TASKMANAGERS


def test_ripples_gives_the_same_records_at_parallelism_1_2_and_4(
    cluster: PrivateStack, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = cluster.settings
    bootstrap = settings.kafka_bootstrap
    prefix = f"scale-ripples-{uuid.uuid4().hex[:8]}"
    trades, quotes = generated_events()
    order, _ = late_trade_order(trades)
    ensure_topics(
        bootstrap, [f"{prefix}-trades", f"{prefix}-quotes"], settings.kafka_topic_partitions
    )
    trades_topic, quotes_topic = produce_events(bootstrap, prefix, trades, quotes, order)
    assert_spread(bootstrap, trades_topic)

    args = ["--bootstrap", bootstrap, "--trades-topic", trades_topic,
            "--quotes-topic", quotes_topic, "--bounded"]  # fmt: skip
    runs = run_each_parallelism(settings, JOBS["ripples"].file, args, prefix)

    read = reader(bootstrap)
    results = {
        run.parallelism: check_output(read, run.output_topic, trades, quotes) for run in runs
    }
    with capsys.disabled():
        compare_runs("ripples", settings, runs, results, print)


def currents_results(
    read: Callable[..., list[ConsumerRecord]], topic: str, bars: pd.DataFrame
) -> AnalyticsRecords:
    """The run's records, each equal to the pandas reference (indicators and volatility
    rounds), as the currents job test checks them."""
    by_symbol = {s: g.reset_index(drop=True) for s, g in bars.groupby("symbol")}
    volatility = {s: currents_reference.volatility(g) for s, g in by_symbol.items()}
    series = {
        (s, "1Min"): pd.Series(g.close.to_numpy(), index=g.t_ns) for s, g in by_symbol.items()
    }
    vol_count = sum(map(len, volatility.values()))
    got = read_records(
        read, topic, vol_count + wire_count(series), vol_count + expected_count(series)
    )
    check_indicators(got, series)
    rounds = got["volatility_24h"]
    assert len(rounds) == vol_count
    for symbol, frame in volatility.items():
        for t_ns, row in frame.iterrows():
            currents_reference.assert_close(
                rounds[symbol, t_ns], row.to_dict(), f"volatility {symbol} {t_ns}"
            )
    return got


def test_currents_gives_the_same_records_at_parallelism_1_2_and_4(
    cluster: PrivateStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """The minute bars of the currents job test (four real symbols' bars generated into
    minutes), the 12 hours around its split between the history and the live topic:
    indicators and volatility rounds."""
    settings = cluster.settings
    bootstrap = settings.kafka_bootstrap
    prefix = f"scale-currents-{uuid.uuid4().hex[:8]}"
    bars = minute_bars()
    split = int(pd.Timestamp(MINUTE_SPLIT, tz="UTC").value)
    around = (bars.t_ns >= split - CURRENTS_SPAN_NS) & (bars.t_ns < split + CURRENTS_SPAN_NS)
    bars = bars[around].reset_index(drop=True)
    history, live = minute_events(bars)
    history_topic, live_topic = f"{prefix}-history", f"{prefix}-live"
    ensure_topics(bootstrap, [history_topic, live_topic], settings.kafka_topic_partitions)
    produce(bootstrap, history_topic, history)
    produce(bootstrap, live_topic, live)
    assert_spread(bootstrap, history_topic)

    args = ["--bootstrap", bootstrap, "--history-topic", history_topic,
            "--live-topic", live_topic, "--bounded"]  # fmt: skip
    runs = run_each_parallelism(settings, JOBS["currents"].file, args, prefix)

    read = reader(bootstrap)
    results = {run.parallelism: currents_results(read, run.output_topic, bars) for run in runs}
    with capsys.disabled():
        compare_runs("currents", settings, runs, results, print)


def test_beacons_gives_the_same_records_at_parallelism_1_2_and_4(
    cluster: PrivateStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real data of the beacons job test (S&P 500 and GOOG daily bars, Shiller's series,
    GOOG's earnings announcements). Its topic is an upsert stream (how often a record is
    written depends on the flushes), so what is compared is the last record of each key."""
    settings = cluster.settings
    bootstrap = settings.kafka_bootstrap
    prefix = f"scale-beacons-{uuid.uuid4().hex[:8]}"
    bars_topic, facts_topic = f"{prefix}-bars", f"{prefix}-facts"
    topics = [bars_topic, facts_topic, dead_letter_topic(facts_topic)]
    ensure_topics(bootstrap, topics, settings.kafka_topic_partitions)
    produce(bootstrap, bars_topic, daily_history_bars("SP500") + daily_history_bars("GOOG"))
    produce(
        bootstrap, facts_topic, fundamentals("SP500", shiller_facts()) + goog_announcement_events()
    )
    assert_spread(bootstrap, bars_topic)

    args = ["--bootstrap", bootstrap, "--bars-topic", bars_topic,
            "--fundamentals-topic", facts_topic, "--bounded"]  # fmt: skip
    runs = run_each_parallelism(settings, JOBS["beacons"].file, args, prefix)

    results: dict[int, AnalyticsRecords] = {}
    for run in runs:
        latest, _ = latest_records(bootstrap, run.output_topic)
        check_sp500_valuation(latest)
        check_goog_events(latest)
        by_metric: AnalyticsRecords = {}
        for (metric, symbol, t_ns), values in latest.items():
            by_metric.setdefault(metric, {})[symbol, t_ns] = values
        results[run.parallelism] = by_metric
    with capsys.disabled():
        compare_runs("beacons", settings, runs, results, print)


# narwhal: the first daily bars of GOOG and of the S&P 500 (two symbols, in two of the four
# partitions), scored by a model trained on GOOG's 2005-2011 features.
NARWHAL_BARS = {"GOOG": 800, "SP500": 400}


def narwhal_results(
    read: Callable[..., list[ConsumerRecord]], topic: str, model_id: str, expected: dict
) -> AnalyticsRecords:
    """The run's predictions by (symbol, t_ns): one per bar, each the batch prediction."""
    got: dict[tuple[str, int], dict[str, Any]] = {}
    for message in read(topic, len(expected) + 1, idle_ms=5_000):
        prediction = Prediction.from_wire(message.value)
        assert message.key == prediction.symbol.encode()
        key = (prediction.symbol, prediction.t_ns)
        assert key not in got, f"repeated {prediction}"
        got[key] = prediction.model_dump(exclude={"symbol", "t_ns"})
    assert sorted(got) == sorted(expected)
    assert {v["model_id"] for v in got.values()} == {model_id}
    wrong = {k: (v["value"], expected[k]) for k, v in got.items() if v["value"] != expected[k]}
    assert not wrong, f"{len(wrong)} predictions differ from batch, e.g. {list(wrong.items())[:3]}"
    return {"prediction": got}


def test_narwhal_gives_the_same_predictions_at_parallelism_1_2_and_4(
    cluster: PrivateStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The inputs of the narwhal job test (history bars as after a 2:1 split, a re-gather, the
    last bars on the live topic, the indicator records currents writes, with records the job
    must leave out), for fewer bars; every prediction equal to batch scoring's."""
    settings = cluster.settings
    bootstrap = settings.kafka_bootstrap
    prefix = f"scale-narwhal-{uuid.uuid4().hex[:8]}"
    models = tmp_path / "models"
    record = train_goog_model(models, training_config("scale-out-narwhal"))
    model = LocalModelStore(models).load(record.model_id)
    frames = {
        "GOOG": goog_bars(NARWHAL_BARS["GOOG"]),
        "SP500": with_indicators(load_bars("SP500").iloc[: NARWHAL_BARS["SP500"]]),
    }
    history, live = bar_events(frames["GOOG"], frames["SP500"])
    topics = {part: f"{prefix}-{part}" for part in ("history", "live", "currents")}
    ensure_topics(bootstrap, list(topics.values()), settings.kafka_topic_partitions)
    produce(bootstrap, topics["history"], history)
    produce(bootstrap, topics["live"], live)
    produce(bootstrap, topics["currents"], indicator_events(frames))
    assert_spread(bootstrap, topics["history"])

    batch = batch_predictions(frames, model)
    expected = {
        (s, int(t)): v for s, t, v in zip(batch.symbol, batch.t_ns, batch.value, strict=True)
    }
    assert len(expected) == sum(NARWHAL_BARS.values())
    args = ["--bootstrap", bootstrap, "--model", record.model_id, "--model-dir", str(models),
            "--history-topic", topics["history"], "--live-topic", topics["live"],
            "--indicators-topic", topics["currents"], "--bounded"]  # fmt: skip
    runs = run_each_parallelism(settings, JOBS["narwhal"].file, args, prefix)

    read = reader(bootstrap)
    results = {
        run.parallelism: narwhal_results(read, run.output_topic, record.model_id, expected)
        for run in runs
    }
    with capsys.disabled():
        compare_runs("narwhal", settings, runs, results, print)


# The quiet-partitions test: trades of the three ripples symbols over 4 partitions (GOOG, SPX
# and NDX hash to three of them; the fourth gets nothing), NDX stopping halfway, sent while the
# job runs, in event-time order, paced so an active partition never waits IDLE_TIMEOUT_S.
IDLE_TIMEOUT_S = 2
# "No idleness": ripples' --idle-timeout takes seconds > 0, and an hour is none for this test.
NO_IDLENESS_S = 3600
QUIET_SECONDS = 40  # of event time
SEND_PAUSE_S = 0.05  # between two trades: ~0.15 s between two of one partition
AFTER_READING_S = 10  # how long the job without idleness gets to show a bar (it shows none)


def quiet_input() -> pd.DataFrame:
    """~40 s of trades of GOOG, SPX and NDX (from the ripples test's generated events), NDX's
    only in the first half; in time order."""
    trades, _ = generated_events()
    start = int(trades.t_ns.min())
    trades = trades[trades.t_ns < start + QUIET_SECONDS * 10**9]
    ndx_stops = start + QUIET_SECONDS * 10**9 // 2
    trades = trades[(trades.symbol != "NDX") | (trades.t_ns < ndx_stops)]
    return trades.sort_values("t_ns", kind="stable", ignore_index=True)


def send_paced(bootstrap: str, topic: str, trades: pd.DataFrame) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for r in trades.itertuples():
            trade = Trade(
                symbol=r.symbol, t_ns=int(r.t_ns), price=float(r.price), size=float(r.size)
            )
            producer.send(topic, key=trade.key(), value=trade.to_wire())
            producer.flush(timeout=60)
            time.sleep(SEND_PAUSE_S)
    finally:
        producer.close()


def bars_written(bootstrap: str, topic: str) -> dict[tuple[str, int], dict[str, Any]]:
    """The 1-second bars on ``topic`` so far, by (symbol, t_ns)."""
    records = reader(bootstrap)(topic, 10**9, idle_ms=3_000)
    return analytics_by_metric(records).get("bar_1s", {})


def source_records_read(settings: Settings, job_id: str) -> int:
    """Records the job's trades source has read (the REST API's vertex figures, refreshed
    every 10 s)."""
    job = request_json("GET", f"{settings.flink_rest_url}/jobs/{job_id}", timeout=10)
    return sum(
        int(vertex["metrics"]["write-records"])
        for vertex in job["vertices"]
        if vertex["name"].startswith("Source: trades")
    )


def test_quiet_partitions_hold_no_window_back_with_the_idle_timeout(
    cluster: PrivateStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Streaming ripples at parallelism 2: each source subtask reads two of the four partitions,
    one subtask GOOG's and the quiet one, the other SPX's and NDX's, which goes quiet halfway.
    A subtask's watermark is the least of its partitions' (Kafka's per-partition watermarks),
    so a partition without records holds it, and every window after it, back, until the idle
    timeout marks the partition idle and leaves it out. With ``--idle-timeout 2`` every
    1-second bar the watermark of the active partitions has passed comes out while the job
    runs, equal to pandas (NDX's too, up to its last trade). The same job with no idle timeout
    at all, on the same trades at the same time, closes no window: its watermark waits for
    the partition that never gets a record."""
    settings = cluster.settings
    bootstrap = settings.kafka_bootstrap
    prefix = f"scale-quiet-{uuid.uuid4().hex[:8]}"
    trades_topic, quotes_topic = f"{prefix}-trades", f"{prefix}-quotes"
    outputs = {IDLE_TIMEOUT_S: f"{prefix}-out-idle", NO_IDLENESS_S: f"{prefix}-out-no-idle"}
    ensure_topics(
        bootstrap, [trades_topic, quotes_topic, *outputs.values()], settings.kafka_topic_partitions
    )
    trades = quiet_input()

    def job(idle_timeout: int) -> Any:
        return running_job(
            settings, JOBS["ripples"].file,
            "--bootstrap", bootstrap, "--trades-topic", trades_topic,
            "--quotes-topic", quotes_topic, "--output-topic", outputs[idle_timeout],
            "--group-id", f"{prefix}-{idle_timeout}", "--idle-timeout", str(idle_timeout),
            "--parallelism", "2",
        )  # fmt: skip

    started = time.monotonic()
    with job(IDLE_TIMEOUT_S), job(NO_IDLENESS_S) as no_idleness_job:
        sender = threading.Thread(target=send_paced, args=(bootstrap, trades_topic, trades))
        sender.start()
        sender.join()
        counts = assert_spread(bootstrap, trades_topic)

        # Bars close once the watermark (the least of the two active subtasks' latest event
        # time, minus the 2 s bound) has passed their end.
        last_ns = min(int(trades.t_ns[trades.symbol == s].max()) for s in ("GOOG", "SPX"))
        watermark_ms = last_ns // 1_000_000 - 2_000
        expected = reference_bars(trades, 1)
        closed = expected[expected.t_ns // 1_000_000 <= watermark_ms]
        assert set(closed.symbol) == {"GOOG", "SPX", "NDX"}
        wanted = {(s, int(t)) for s, t in zip(closed.symbol, closed.t_ns, strict=True)}
        deadline = time.monotonic() + 120
        while not wanted <= set(got := bars_written(bootstrap, outputs[IDLE_TIMEOUT_S])):
            assert time.monotonic() < deadline, f"missing bars: {sorted(wanted - set(got))[:5]}"
            time.sleep(2)
        reference = {(r.pop("symbol"), int(r.pop("t_ns"))): r for r in expected.to_dict("records")}
        for key, values in got.items():
            assert key in reference, f"bar {key} not in the reference"
            assert_close(values, reference[key], f"bar_1s {key}")

        # Without idleness: the job has read every trade (by the REST API's figures, refreshed
        # every 10 s) and, a while later, still closed no window.
        deadline = time.monotonic() + 90
        while source_records_read(settings, no_idleness_job) < len(trades):
            assert time.monotonic() < deadline, "the job without idleness did not read the trades"
            time.sleep(2)
        time.sleep(AFTER_READING_S)
        without = bars_written(bootstrap, outputs[NO_IDLENESS_S])
        assert without == {}
    with capsys.disabled():
        print(
            f"SCALE-OUT quiet partitions: trades per partition {counts}, {len(got)} bars "
            f"compared ({len(closed)} closed by the watermark), {len(got)} equal to pandas; "
            f"without idleness {len(without)} bars; {time.monotonic() - started:.0f} s"
        )
