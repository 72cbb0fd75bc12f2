"""Narwhal's operations, as the CLI (``streamlines ml``) and the GraphQL server call them:
build a feature matrix, train and keep a model, score a range, backtest a model, export it."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from ml.artifacts import ARTIFACT_NAME, LoadedModel
from ml.backtest import BacktestSpec, Strategy
from ml.backtest import run_backtest as run_backtest_on
from ml.config import TrainingConfig
from ml.data import load_frames
from ml.features import build_matrix, max_lookback
from ml.models import ModelRecord, model_store
from ml.predict import (
    PublishReport,
    ScoringInput,
    model_horizon,
    model_timeframe,
    publish,
    score_frames,
    score_range,
    to_events,
)
from ml.results import BacktestRecord, BacktestStore
from ml.train import TrainedModel, train_local
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

Step = Callable[[str], None]


def _quiet(_phase: str) -> None:
    return None


def feature_matrix(settings: Settings, config: TrainingConfig) -> pd.DataFrame:
    """The training matrix of ``config`` from the stores (bars, indicators, spreads)."""
    frames = load_frames(
        settings,
        config.symbols,
        config.start,
        config.end,
        config.timeframe,
        warmup_bars=max_lookback(config.features),
    )
    return build_matrix(frames, config)


def write_matrix(matrix: pd.DataFrame, out: Path) -> Path:
    """The matrix as Parquet (``symbol``, ``time``, the features in model order, ``label``)."""
    if out.suffix != ".parquet":
        raise UserError(f"{out}: the matrix is written as Parquet", "name the file *.parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    matrix.to_parquet(tmp, index=False)
    tmp.replace(out)
    return out


def train(matrix: pd.DataFrame, config: TrainingConfig, settings: Settings) -> TrainedModel:
    """Train on the backend the config names."""
    if config.backend == "local":
        return train_local(matrix, config)
    # Imported on use: the sagemaker SDK takes ~1.8 s to import, every `streamlines` command
    # would pay it.
    from ml.backends import train_with_backend

    return train_with_backend(matrix, config, settings)


def train_model(settings: Settings, config: TrainingConfig, step: Step = _quiet) -> ModelRecord:
    """Build the matrix, train, keep the model in the store; its record."""
    step("loading bars and indicators")
    matrix = feature_matrix(settings, config)
    step(f"training on {len(matrix):,} rows ({config.backend})")
    model = train(matrix, config, settings)
    step("saving the model")
    record = model_store(settings).save(model, config)
    log.info("trained model %s on %d rows: %s", record.model_id, len(matrix), record.metrics)
    return record


@dataclass(frozen=True)
class PredictReport:
    model_id: str
    published: PublishReport


def predict_range(settings: Settings, model_id: str, symbols: list[str], start: datetime,
                  end: datetime) -> PredictReport:  # fmt: skip
    """Score ``symbols``' bars (none given: the model's own symbols) in [start, end) with the
    model; write them to the predictions bucket and topic."""
    model = model_store(settings).load(model_id)
    scope = ScoringInput(tuple(symbols or _model_symbols(model)), start, end,
                         model_timeframe(model))  # fmt: skip
    scored = score_range(settings, model, scope)
    events = to_events(scored, model_id, scope.timeframe, model_horizon(model))
    return PredictReport(model_id, publish(settings, events))


def backtest_model(
    settings: Settings, model_id: str, start: datetime, end: datetime, spec: BacktestSpec | None
) -> BacktestRecord:
    """Score the model's symbols over [start, end) and backtest its predictions; the result is
    kept with the model."""
    store = model_store(settings)
    model = store.load(model_id)
    symbols = _model_symbols(model)
    timeframe = model_timeframe(model)
    frames = load_frames(settings, symbols, start, end, timeframe,
                         warmup_bars=max_lookback(model.feature_names))  # fmt: skip
    scored = score_frames(model, frames, start, end)
    spec = spec or _spec(model, "long_flat", 0.0)
    inputs = {}
    for symbol, rows in scored.groupby("symbol", sort=True):
        bars = frames[str(symbol)][["time", "close"]]
        inputs[str(symbol)] = rows[["time", "prediction"]].merge(bars, on="time", how="inner")
    result = run_backtest_on(inputs, spec)
    return BacktestStore(settings.model_store_dir).save(model_id, start, end, result)


def export_model(settings: Settings, model_id: str, out: Path) -> Path:
    """A copy of the model's ``model.tar.gz`` at ``out`` (a file, or a folder to put it in)."""
    local = model_store(settings).load(model_id).path  # an S3 store's is its local copy
    target = out / ARTIFACT_NAME if out.is_dir() else out
    shutil.copyfile(local, target)
    return target


def _model_symbols(model: LoadedModel) -> list[str]:
    symbols = (model.metadata.get("config") or {}).get("symbols")
    if not symbols:
        raise UserError(f"model {model.path} does not say which symbols it was trained on")
    return list(symbols)


def backtest_spec(settings: Settings, model_id: str, strategy: Strategy,
                  cost_bps: float) -> BacktestSpec:  # fmt: skip
    """The spec of a backtest of the model: its timeframe's periods per year and its label's
    kind (which sets the threshold), with this strategy and cost."""
    return _spec(model_store(settings).load(model_id), strategy, cost_bps)


def _spec(model: LoadedModel, strategy: Strategy, cost_bps: float) -> BacktestSpec:
    label = (model.metadata.get("config") or {}).get("label") or {}
    return BacktestSpec.for_timeframe(
        model_timeframe(model),
        strategy=strategy,
        cost_bps=cost_bps,
        kind=label.get("kind", "classification"),
    )


def list_models(settings: Settings) -> list[ModelRecord]:
    """The models of the configured store, oldest first."""
    return model_store(settings).list_models()
