"""The narwhal job on the standalone cluster: every prediction it writes equals the batch
prediction (``ml.features.scoring_matrix`` + ``ml.artifacts.predict``) of the same bar.

Real data: a model trained in the test on real GOOG daily features (``ml.train.train_local``),
the GOOG daily bars 2004-2013 and the first 600 S&P 500 daily bars, and their indicator records
as the currents job writes them (``tests/references/currents.py``, as ``AnalyticsRecord``
JSON): one record per bar, every bar, with every family's values keyed ``<family>.<field>``
(null while warming up), each symbol's in bar order, with crossovers, volatility and a minute
series (other values at the same times) beside them that the job must leave out. GOOG's
history is sent as if a 2:1 split had happened since (the adjusted prices are the real ones,
the raw ones double, so the job is right only with the adjusted values), its first 30 bars
twice (a re-gather), and its last 40 bars on the live topic instead (one on both).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from connectors.sinks.kafka import ensure_topics
from jobs.registry import JOBS
from ml.models import LocalModelStore
from streamlines.contracts.events import AnalyticsRecord, Bar, Event, HistoryBar, Prediction
from streamlines.contracts.metrics import METRIC_VOLATILITY
from streamlines.datasets import load_bars
from tests.references.features import with_indicators
from tests.support.flink import run_job
from tests.support.kafka import produce
from tests.support.narwhal import (
    IndicatorRecord,
    analytics_records,
    bar_fields,
    batch_predictions,
    goog_bars,
    indicator_records,
    train_goog_model,
)
from tests.support.narwhal import config as training_config

NARWHAL = JOBS["narwhal"]


def history_bar(symbol: str, row: Any, scale: float) -> HistoryBar:
    real = bar_fields(symbol, row)
    adjusted = {f"adj_{k}": real[k] for k in ("open", "high", "low", "close", "volume")}
    raw = bar_fields(symbol, row, scale)
    return HistoryBar(**raw, **adjusted, adj_factor=real["close"] / raw["close"])


def bar_events(goog: pd.DataFrame, spx: pd.DataFrame) -> tuple[list[Event], list[Event]]:
    """(history topic, live topic)."""
    history: list[Event] = [history_bar("SP500", row, 1.0) for row in spx.itertuples()]
    live_from = len(goog) - 40
    goog_history = [history_bar("GOOG", row, 2.0) for row in goog.iloc[:live_from].itertuples()]
    history += goog_history + goog_history[:30]
    live: list[Event] = [
        Bar(**bar_fields("GOOG", row)) for row in goog.iloc[live_from - 1 :].itertuples()
    ]
    return history, live


def indicator_events(frames: dict[str, pd.DataFrame]) -> list[Event]:
    events: list[Event] = []
    for symbol, bars in frames.items():
        events += analytics_records(symbol, indicator_records(bars))
        # Records the job must leave out: another timeframe (at the same times, other values),
        # and the metrics it does not read.
        minute = [
            IndicatorRecord(r.t_ns, {k: None if v is None else 2 * v for k, v in r.values.items()})
            for r in indicator_records(bars.iloc[:60], "1Min")
        ]
        events += analytics_records(symbol, minute, "1Min")
        for r in indicator_records(bars)[:5]:
            events += [
                AnalyticsRecord(symbol=symbol, t_ns=r.t_ns, metric="cross_sma50_sma200_1Day",
                                values={"signal": 1.0, "cross": 0.0}),
                AnalyticsRecord(symbol=symbol, t_ns=r.t_ns, metric=METRIC_VOLATILITY,
                                values={"std": 1.0, "mean": 100.0, "count": 2.0, "rel_std": 0.01}),
            ]  # fmt: skip
    return events


def test_stream_predictions_equal_the_batch_ones(
    stack, settings, unique_name, read_topic, tmp_path
):
    record = train_goog_model(tmp_path / "models", training_config("goog-stream-it"))
    model = LocalModelStore(tmp_path / "models").load(record.model_id)
    frames = {"GOOG": goog_bars(), "SP500": with_indicators(load_bars("SP500").iloc[:600])}
    history, live = bar_events(frames["GOOG"], frames["SP500"])
    topics = [f"{unique_name}-{part}" for part in ("history", "live", "currents", "out")]
    ensure_topics(settings.kafka_bootstrap, topics)
    produce(settings.kafka_bootstrap, topics[0], history)
    produce(settings.kafka_bootstrap, topics[1], live)
    produce(settings.kafka_bootstrap, topics[2], indicator_events(frames))

    run_job(
        settings, NARWHAL.file, "--bootstrap", settings.kafka_bootstrap,
        "--model", record.model_id, "--model-dir", str(tmp_path / "models"),
        "--history-topic", topics[0], "--live-topic", topics[1],
        "--indicators-topic", topics[2], "--output-topic", topics[3], "--bounded",
        timeout=900,
    )  # fmt: skip

    batch = batch_predictions(frames, model)
    expected = {
        (s, int(t)): v for s, t, v in zip(batch.symbol, batch.t_ns, batch.value, strict=True)
    }
    records = read_topic(topics[3], len(expected) + 1, idle_ms=5_000)
    got = {}
    for message in records:
        prediction = Prediction.from_wire(message.value)
        assert message.key == prediction.symbol.encode()
        assert (prediction.model_id, prediction.timeframe, prediction.horizon) == (
            record.model_id, "1Day", 5,
        )  # fmt: skip
        assert (prediction.symbol, prediction.t_ns) not in got, f"repeated {prediction}"
        got[prediction.symbol, prediction.t_ns] = prediction.value
    assert len(expected) == len(frames["GOOG"]) + 600
    assert sorted(got) == sorted(expected)
    wrong = {key: (got[key], value) for key, value in expected.items() if got[key] != value}
    assert not wrong, f"{len(wrong)} predictions differ from batch, e.g. {list(wrong.items())[:3]}"
