"""Inputs of the narwhal job's tests, from real GOOG daily bars: the bars with the currents
job's indicators (``tests/references/currents.py``, as ``ml.features`` takes them), the
per-bar indicator records the currents job writes for them (``AnalyticsRecord``, one per bar
with every family: ``streamlines.contracts.indicators``), a model trained on
them (``ml.train.train_local``, saved in a ``LocalModelStore``), and the batch predictions
(``ml.features.scoring_matrix`` + ``ml.artifacts.predict``) the stream must equal."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jobs.narwhal.lookback import HISTORY_INDEX, TIMES, VALUE_COLUMNS, VALUES
from jobs.narwhal.window import BAR_VALUES, INDICATOR_KEYS
from ml.artifacts import LoadedModel, predict
from ml.config import TrainingConfig, parse_config
from ml.features import INDICATOR_COLUMNS, build_matrix, scoring_matrix
from ml.models import LocalModelStore, ModelRecord
from ml.train import train_local
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.indicators import FAMILIES, compact_values, indicators_metric
from streamlines.datasets import load_bars
from tests.references.currents import expected_indicators
from tests.references.features import with_indicators


def goog_bars(count: int | None = None) -> pd.DataFrame:
    """GOOG daily bars (the first ``count``) with their indicator columns."""
    bars = load_bars("GOOG")
    return with_indicators(bars if count is None else bars.iloc[:count])


@dataclass(frozen=True)
class IndicatorRecord:
    """A per-bar record of the currents job: every family's values at one bar."""

    t_ns: int
    values: dict[str, float | None]  # keyed <family>.<field> (None: still warming up)


def indicator_records(bars: pd.DataFrame, timeframe: str = "1Day") -> list[IndicatorRecord]:
    """What the currents job writes for these bars: one record per bar, every bar (its first
    included), in time order."""
    times = _t_ns(bars)
    frames = expected_indicators(pd.Series(bars["close"].to_numpy(), index=times), timeframe)
    # The reference gives a family's rows from its first known value on: the bars before, null.
    rows = {f: frames[f"{f}_{timeframe}"].reindex(times).to_dict("records") for f in FAMILIES}
    return [
        IndicatorRecord(int(t_ns), compact_values((f, _known(rows[f][i])) for f in FAMILIES))
        for i, t_ns in enumerate(times)
    ]


def _known(values: dict[str, float]) -> dict[str, float | None]:
    return {k: None if math.isnan(v) else float(v) for k, v in values.items()}


def record_columns(record: IndicatorRecord) -> dict[str, float | None]:
    """The record flattened into the feature input columns (``ml.features.INDICATOR_COLUMNS``),
    as the narwhal job's SQL does; None where a value is still warming up."""
    return {column: record.values.get(key) for column, key in INDICATOR_KEYS.items()}


def analytics_records(
    symbol: str, records: list[IndicatorRecord], timeframe: str = "1Day"
) -> list[AnalyticsRecord]:
    metric = indicators_metric(timeframe)
    return [
        AnalyticsRecord(symbol=symbol, t_ns=r.t_ns, metric=metric, values=dict(r.values))
        for r in records
    ]


def bar_fields(symbol: str, row: Any, scale: float = 1.0) -> dict[str, Any]:
    """A daily bar of ``goog_bars`` as ``Bar`` fields (prices times ``scale``)."""
    return {
        "symbol": symbol,
        "t_ns": int(pd.Timestamp(row.time).value),
        "timeframe": "1Day",
        **{k: float(getattr(row, k)) * scale for k in ("open", "high", "low", "close")},
        "volume": float(row.volume),
    }


def config(name: str = "goog-stream", **overrides: Any) -> TrainingConfig:
    return parse_config(
        {
            "name": name,
            "symbols": ["GOOG"],
            "start": "2005-01-01",
            "end": "2012-01-01",
            "label": {"kind": "classification", "horizon": 5},
            "hyperparameters": {"max_depth": 3, "eta": 0.3, "num_round": 30, "seed": 1},
            "splits": {"folds": 2, "min_train_fraction": 0.6},
            **overrides,
        }
    )


def train_goog_model(root: Path, training: TrainingConfig | None = None) -> ModelRecord:
    """A model trained on real GOOG features (``build_matrix``), saved in the store at
    ``root``."""
    training = training or config()
    matrix = build_matrix({"GOOG": goog_bars()}, training)
    return LocalModelStore(root).save(train_local(matrix, training), training)


def batch_predictions(frames: dict[str, pd.DataFrame], model: LoadedModel) -> pd.DataFrame:
    """``symbol``, ``t_ns``, the model's features and ``value``: batch scoring of every bar."""
    matrix = scoring_matrix(frames, list(model.feature_names))
    out = matrix.drop(columns="time")
    out.insert(1, "t_ns", matrix["time"].array.asi8)
    out["value"] = predict(model, matrix)
    return out


def _t_ns(bars: pd.DataFrame) -> pd.Index:
    return pd.Index(pd.to_datetime(bars["time"], utc=True).array.asi8)


@dataclass(frozen=True)
class LookbackRow:
    """A row of the narwhal job's ``stream_input`` (``settled_bars``): a bar with the bars
    before it, their times and values (the ``jobs.narwhal.lookback.HISTORY_INDEX`` columns of
    the bars before it, the ``VALUE_COLUMNS`` of the bar), packed as ``settled_bars`` packs
    them."""

    symbol: str
    t_ns: int
    times: bytes
    values: bytes


def lookback_rows(symbol: str, bars: pd.DataFrame, lookback: int) -> list[LookbackRow]:
    """What ``settled_bars`` gives for these bars once their indicator records are in."""
    by_time = {record.t_ns: record_columns(record) for record in indicator_records(bars)}
    times = list(_t_ns(bars))
    bar_values = bars[list(BAR_VALUES)].to_numpy("float64")
    per_bar = [
        [*map(float, bar_values[i]), *(by_time.get(t, {}).get(c) for c in INDICATOR_COLUMNS)]
        for i, t in enumerate(times)
    ]
    assert len(per_bar[0]) == len(VALUE_COLUMNS)
    packed_values = np.array(per_bar, dtype="float64")  # None: NaN
    rows = []
    for i, t in enumerate(times):
        first = max(0, i - lookback)
        rows.append(
            LookbackRow(
                symbol,
                int(t),
                np.asarray(times[first : i + 1], dtype=TIMES).tobytes(),
                np.concatenate([packed_values[first:i, HISTORY_INDEX].ravel(), packed_values[i]])
                .astype(VALUES)
                .tobytes(),
            )
        )
    return rows
