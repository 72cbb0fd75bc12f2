"""Batch scoring: a model's predictions for bars in a range, into InfluxDB and the predictions
topic.

The features come from ``ml.features.scoring_matrix`` (the one feature code path, the same the
training and the stream job use), the scores from ``ml.artifacts.predict``. Each prediction is
stamped with its bar's start (``t_ns``) and the model id, so scoring the same range again
overwrites the same points (InfluxDB) and repeats the same keys (the topic's consumers write by
``(symbol, model_id, t_ns)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from connectors.sinks.influx import InfluxWriter
from connectors.sinks.kafka import KafkaSink, ensure_topics
from ml.artifacts import LoadedModel, predict
from ml.data import load_frames
from ml.features import max_lookback, scoring_matrix
from streamlines.contracts.events import Prediction
from streamlines.contracts.points import prediction_point
from streamlines.contracts.time import datetime_to_ns, utc
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError
from streamlines.settings import Settings


@dataclass(frozen=True)
class ScoringInput:
    """What to score: bars of ``symbols`` starting in [start, end) at ``timeframe``."""

    symbols: tuple[str, ...]
    start: datetime
    end: datetime
    timeframe: BarTimeframe


@dataclass(frozen=True)
class PublishReport:
    predictions: int
    points_written: int
    records_sent: int


def model_timeframe(model: LoadedModel) -> BarTimeframe:
    """The timeframe the model was trained on (its config), 1Day for a model without one."""
    config = model.metadata.get("config") or {}
    return BarTimeframe(config.get("timeframe", BarTimeframe.DAY_1.value))


def model_horizon(model: LoadedModel) -> int:
    config = model.metadata.get("config") or {}
    return int((config.get("label") or {}).get("horizon", 1))


def score_frames(model: LoadedModel, frames: dict[str, pd.DataFrame], start: datetime,
                 end: datetime) -> pd.DataFrame:  # fmt: skip
    """``symbol``, ``time`` and ``prediction`` of every bar of ``frames`` starting in
    [start, end) (earlier bars in the frames serve as the features' look-back)."""
    matrix = scoring_matrix(frames, list(model.feature_names))
    inside = (matrix["time"] >= pd.Timestamp(utc(start))) & (
        matrix["time"] < pd.Timestamp(utc(end))
    )
    matrix = matrix.loc[inside].reset_index(drop=True)
    scored = matrix[["symbol", "time"]].copy()
    scored["prediction"] = predict(model, matrix).astype("float64") if len(matrix) else []
    return scored


def score_range(settings: Settings, model: LoadedModel, scope: ScoringInput) -> pd.DataFrame:
    """Load the bars and indicators of ``scope`` from InfluxDB and score them."""
    frames = load_frames(
        settings,
        scope.symbols,
        scope.start,
        scope.end,
        scope.timeframe,
        warmup_bars=max_lookback(model.feature_names),
    )
    return score_frames(model, frames, scope.start, scope.end)


def to_events(scored: pd.DataFrame, model_id: str, timeframe: BarTimeframe,
              horizon: int) -> list[Prediction]:  # fmt: skip
    return [
        Prediction(
            symbol=symbol,
            t_ns=datetime_to_ns(time.to_pydatetime()),
            model_id=model_id,
            timeframe=timeframe.value,
            horizon=horizon,
            value=float(value),
        )
        for symbol, time, value in zip(
            scored["symbol"], scored["time"], scored["prediction"], strict=True
        )
    ]


def publish(settings: Settings, predictions: Sequence[Prediction]) -> PublishReport:
    """Write the predictions to the predictions bucket and topic (the topic is created if it
    does not exist)."""
    with InfluxWriter.from_settings(settings, settings.predictions_bucket) as writer:
        written = writer.write(prediction_point(p) for p in predictions)
    ensure_topics(settings, [settings.predictions_topic])
    sink = KafkaSink(settings, client_id="narwhal-predict")
    try:
        for prediction in predictions:
            sink.send(settings.predictions_topic, prediction)
        sink.flush(60)
    finally:
        sink.close(10)
    if sink.counters.failed:
        raise UserError(
            f"{sink.counters.failed} predictions did not reach {settings.predictions_topic}",
            "check that Kafka is up (`streamlines stack status`) and score again: a re-run "
            "overwrites",
        )
    return PublishReport(len(predictions), written, sink.counters.acked)
