"""The narwhal job's model switch on the standalone cluster: a streaming run with ``--model
latest:<config name>`` goes over to a newer model of that name without a restart, and stays
with it when a still newer one is of another timeframe.

Real data: the first GOOG daily bars, sent on the live topic part after part while the job
runs, with the per-bar indicator records the currents job writes for them
(``tests/support/narwhal.py``) and, as currents does, each part's records only once the next
bar has come: the bar after a part is sent with it, so its watermark releases the part's last
bar. Models trained in the test
on real GOOG features (``ml.train.train_local``), all of one config name, saved to a store the
test creates (the cluster's TaskManager reads it at the same path: the local stack is one
machine):

1. model A; the job starts with it and scores the first part;
2. model B (other hyperparameters: other predictions), saved while the job runs; after
   ``--reload-seconds`` the job scores the second part with it;
3. model C, of 1-minute bars: the job cannot use it and keeps B for the third part.

Every prediction carries the id of the model that made it and equals that model's batch
scoring (``ml.features.scoring_matrix`` + ``ml.artifacts.predict``) of the same bar.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable

import pandas as pd
from kafka.consumer.fetcher import ConsumerRecord

from connectors.sinks.kafka import ensure_topics
from jobs.registry import JOBS
from ml.models import LocalModelStore, ModelRecord
from streamlines.contracts.events import Bar, Event, Prediction
from streamlines.settings import Settings
from streamlines.stack.http import request_json
from tests.support.flink import running_job
from tests.support.kafka import produce
from tests.support.narwhal import (
    analytics_records,
    bar_fields,
    batch_predictions,
    goog_bars,
    indicator_records,
    train_goog_model,
)
from tests.support.narwhal import config as training_config

NARWHAL = JOBS["narwhal"]
CONFIG_NAME = "goog-switch-it"
RELOAD_SECONDS = 2
# The parts' ends (bar indices): A scores bars [0, 150), B [150, 225) and, C skipped, [225, 300).
PART_ENDS = (150, 225, 300)
FIRST_PART_TIMEOUT_S = 300  # the job's start (Python workers) is in it
PART_TIMEOUT_S = 120

Predictions = dict[int, Prediction]  # by t_ns: one symbol


def part_events(bars: pd.DataFrame, start: int, end: int) -> tuple[list[Event], list[Event]]:
    """(live bars, indicator records) of the part [start, end): its bars not sent yet and the
    one after it (whose watermark releases the part's last bar), and the part's indicator
    records, one per bar."""
    sent = start + 1 if start else 0  # the part's first bar came with the part before
    live: list[Event] = [
        Bar(**bar_fields("GOOG", row)) for row in bars.iloc[sent : end + 1].itertuples()
    ]
    times = set(bar_times(bars)[start:end])
    records = [r for r in indicator_records(bars) if r.t_ns in times]
    return live, list(analytics_records("GOOG", records))


def bar_times(bars: pd.DataFrame) -> list[int]:
    return [int(pd.Timestamp(t).value) for t in bars.time]


def read_predictions(read: Callable[..., list[ConsumerRecord]], topic: str) -> Predictions:
    """Every prediction on ``topic`` so far; fails on one not keyed by its symbol or repeated."""
    got: Predictions = {}
    for message in read(topic, 10**6, idle_ms=2_000):
        prediction = Prediction.from_wire(message.value)
        assert message.key == prediction.symbol.encode()
        assert prediction.t_ns not in got, f"repeated {prediction}"
        got[prediction.t_ns] = prediction
    return got


def wait_for_predictions(
    read: Callable[..., list[ConsumerRecord]], topic: str, times: set[int], timeout: float
) -> Predictions:
    deadline = time.monotonic() + timeout
    while not times <= set(got := read_predictions(read, topic)):
        missing = sorted(times - set(got))
        assert time.monotonic() < deadline, (
            f"{len(missing)} of {len(times)} bars not predicted after {timeout:g} s, from "
            f"{pd.Timestamp(missing[0], tz='UTC')}"
        )
        time.sleep(2)
    return got


def wait_for_log_lines(settings: Settings, lines: list[str], timeout: float = 30) -> None:
    """Until the TaskManagers' logs (the Python workers' logging goes there) have ``lines``."""
    base = settings.flink_rest_url
    deadline = time.monotonic() + timeout
    while True:
        logs = ""
        for tm in request_json("GET", f"{base}/taskmanagers", timeout=10)["taskmanagers"]:
            with urllib.request.urlopen(f"{base}/taskmanagers/{tm['id']}/log", timeout=30) as r:
                logs += r.read().decode("utf-8", "replace")
        missing = [line for line in lines if line not in logs]
        if not missing:
            return
        assert time.monotonic() < deadline, f"not in the TaskManager logs: {missing}"
        time.sleep(2)


def expected_values(bars: pd.DataFrame, store: LocalModelStore, record: ModelRecord) -> dict:
    batch = batch_predictions({"GOOG": bars}, store.load(record.model_id))
    return dict(zip(batch.t_ns.astype("int64"), batch.value, strict=True))


def test_a_newer_model_of_the_name_scores_without_a_restart(
    stack, settings: Settings, unique_name: str, read_topic, tmp_path
) -> None:
    models = tmp_path / "models"
    store = LocalModelStore(models)
    bars = goog_bars(PART_ENDS[-1] + 1)
    t_ns = bar_times(bars)
    parts = list(zip((0, *PART_ENDS[:-1]), PART_ENDS, strict=True))
    topics = {part: f"{unique_name}-{part}" for part in ("live", "currents", "out")}
    ensure_topics(settings.kafka_bootstrap, list(topics.values()))
    bootstrap = settings.kafka_bootstrap

    def send(part: int) -> set[int]:
        """Sends the part's events; the times of the bars it lets the job score."""
        start, end = parts[part]
        live, indicators = part_events(bars, start, end)
        produce(bootstrap, topics["live"], live)
        produce(bootstrap, topics["currents"], indicators)
        return set(t_ns[start:end])

    def switch_to(record: ModelRecord) -> None:
        """Saved ``record``; after ``--reload-seconds`` the scorer's next batch checks the
        store (a check before the save was at least that long ago by then)."""
        assert store.list_models()[-1].model_id == record.model_id
        time.sleep(RELOAD_SECONDS + 1)

    model_a = train_goog_model(models, training_config(CONFIG_NAME))
    send(0)
    with running_job(
        settings, NARWHAL.file, "--bootstrap", bootstrap,
        "--model", f"latest:{CONFIG_NAME}", "--model-dir", str(models),
        "--reload-seconds", str(RELOAD_SECONDS), "--history-topic", "",
        "--live-topic", topics["live"], "--indicators-topic", topics["currents"],
        "--output-topic", topics["out"], "--group-id", unique_name, "--parallelism", "1",
    ):  # fmt: skip
        first = set(t_ns[slice(*parts[0])])
        wait_for_predictions(read_topic, topics["out"], first, FIRST_PART_TIMEOUT_S)

        hyperparameters = {"max_depth": 5, "eta": 0.1, "num_round": 40, "seed": 7}
        model_b = train_goog_model(
            models, training_config(CONFIG_NAME, hyperparameters=hyperparameters)
        )
        switch_to(model_b)
        second = send(1)
        wait_for_predictions(read_topic, topics["out"], first | second, PART_TIMEOUT_S)

        minute_model = train_goog_model(models, training_config(CONFIG_NAME, timeframe="1Min"))
        switch_to(minute_model)
        third = send(2)
        got = wait_for_predictions(
            read_topic, topics["out"], first | second | third, PART_TIMEOUT_S
        )

    by_model = {
        model_a.model_id: (first, expected_values(bars, store, model_a)),
        model_b.model_id: (second | third, expected_values(bars, store, model_b)),
    }
    assert set(got) == first | second | third  # and none of the bar after them
    for model_id, (times, expected) in by_model.items():
        made = {t for t, p in got.items() if p.model_id == model_id}
        assert made == times, f"model {model_id}: {len(made)} predictions, not {len(times)}"
        wrong = {t: (got[t].value, expected[t]) for t in times if got[t].value != expected[t]}
        assert not wrong, f"{len(wrong)} of {model_id}'s predictions differ from its batch ones"
    assert {(p.timeframe, p.horizon) for p in got.values()} == {("1Day", 5)}
    # A and B disagree on the bars B scored, so the model ids are not all the check.
    a_values = by_model[model_a.model_id][1]
    b_values = by_model[model_b.model_id][1]
    assert sum(a_values[t] != b_values[t] for t in second | third) > len(second | third) // 2
    # The switch and the skip, as the scorer logs them (the Python workers log to the
    # TaskManager's log).
    a, b, c = model_a.model_id, model_b.model_id, minute_model.model_id
    wait_for_log_lines(
        settings,
        [
            f"switched from model {a} to {b}",
            f"keeping model {b}: model {c} was trained on 1Min bars",
        ],
    )
