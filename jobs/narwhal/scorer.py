"""Which model scores, and scoring a batch of feature rows with it (``ml.artifacts.predict``).

A ``Scorer`` loads its model once (a worker builds one in the scoring function's ``open``).
With ``--model latest:<name>`` it asks the model store every ``reload_seconds`` for the newest
model of that config name and switches to it when there is a newer one that the job can use
(same timeframe, features the stream computes), logging the switch; one it cannot use is
logged and skipped, and the current model goes on. Every prediction carries the id of the
model that made it. No Flink here (``udf.py`` calls it), so it is unit-tested directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from jobs.narwhal.options import ModelSpec
from jobs.narwhal.window import STREAM_FEATURES
from ml.artifacts import LoadedModel, load_artifact, predict
from ml.models import LocalModelStore
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError

log = logging.getLogger(__name__)

# The scorer's input rows (lookback.window_features' output) and output rows (a Prediction).
INPUT_COLUMNS = ("symbol", "t_ns", *STREAM_FEATURES)
OUTPUT_COLUMNS = ("symbol", "t_ns", "model_id", "timeframe", "horizon", "value")


@dataclass(frozen=True)
class ScorerConfig:
    model: ModelSpec
    model_dir: Path
    timeframe: BarTimeframe
    reload_seconds: float = 60.0


@dataclass(frozen=True)
class ActiveModel:
    model_id: str
    loaded: LoadedModel
    timeframe: BarTimeframe
    horizon: int


def describe(loaded: LoadedModel) -> ActiveModel:
    """The id, timeframe and label horizon of a loaded model, from its metadata; a model
    without metadata (SageMaker's bare ``xgboost-model``) says neither."""
    metadata = loaded.metadata
    if not metadata:
        raise UserError(
            f"the model {loaded.path} has no metadata: its timeframe and horizon are unknown",
            "score a model trained or imported by Narwhal (its model.tar.gz has "
            "narwhal/metadata.json)",
        )
    config = metadata.get("config") or {}
    return ActiveModel(
        model_id=str(metadata["model_id"]),
        loaded=loaded,
        timeframe=BarTimeframe(config.get("timeframe", BarTimeframe.DAY_1.value)),
        horizon=int((config.get("label") or {}).get("horizon", 1)),
    )


def check_usable(active: ActiveModel, timeframe: BarTimeframe | None) -> None:
    """A UserError unless the stream can score ``active`` on ``timeframe`` bars."""
    missing = [name for name in active.loaded.feature_names if name not in STREAM_FEATURES]
    if missing:
        raise UserError(
            f"model {active.model_id} uses {', '.join(missing)}, which the stream job does not "
            "compute (it needs ripples' quotes)",
            f"score it in batch (`streamlines ml predict`), or train without {', '.join(missing)}",
        )
    if timeframe is not None and active.timeframe != timeframe:
        raise UserError(
            f"model {active.model_id} was trained on {active.timeframe} bars, not {timeframe}",
            f"leave out --timeframe, or choose a model trained on {timeframe} bars",
        )


def newest_model_id(store: LocalModelStore, name: str) -> str:
    records = [r for r in store.list_models() if r.name == name]
    if not records:
        raise UserError(
            f"no model of the config {name!r} in {store.root}",
            "train one (`streamlines ml train`), or check --model-dir",
        )
    return records[-1].model_id  # list_models: oldest first


def resolve(spec: ModelSpec, model_dir: Path) -> ActiveModel:
    """The model ``spec`` names now."""
    if spec.kind == "path":
        return describe(load_artifact(Path(spec.value)))
    store = LocalModelStore(model_dir)
    model_id = newest_model_id(store, spec.value) if spec.kind == "latest" else spec.value
    return describe(store.load(model_id))


class Scorer:
    def __init__(self, config: ScorerConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self.active = resolve(config.model, config.model_dir)
        check_usable(self.active, config.timeframe)
        self.next_check = clock() + config.reload_seconds
        self.rejected: set[str] = set()  # models found unusable: not loaded and logged again

    def reload_if_due(self) -> bool:
        """With ``latest:<name>``, every ``reload_seconds``: switch to the newest usable model
        of that name; True when it switched."""
        if self.config.model.kind != "latest" or self.clock() < self.next_check:
            return False
        self.next_check = self.clock() + self.config.reload_seconds
        store = LocalModelStore(self.config.model_dir)
        model_id = None
        try:
            model_id = newest_model_id(store, self.config.model.value)
            if model_id == self.active.model_id or model_id in self.rejected:
                return False
            candidate = describe(store.load(model_id))
            check_usable(candidate, self.config.timeframe)
        except UserError as exc:
            log.warning("narwhal: keeping model %s: %s", self.active.model_id, exc)
            if model_id is not None:
                self.rejected.add(model_id)
            return False
        log.info("narwhal: switched from model %s to %s", self.active.model_id, model_id)
        self.active = candidate
        return True

    def score(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Predictions (``OUTPUT_COLUMNS``) of feature rows (``INPUT_COLUMNS``, by position:
        whatever their names)."""
        self.reload_if_due()
        rows = rows.set_axis(list(INPUT_COLUMNS), axis=1)
        active = self.active
        values = predict(active.loaded, rows) if len(rows) else np.empty(0)
        return pd.DataFrame(
            {
                "symbol": rows["symbol"].astype(str).to_numpy(),
                "t_ns": rows["t_ns"].to_numpy("int64"),
                "model_id": active.model_id,
                "timeframe": active.timeframe.value,
                "horizon": np.full(len(rows), active.horizon, dtype="int64"),
                "value": values.astype("float64"),
            }
        )
