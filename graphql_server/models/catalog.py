"""Narwhal's models for the GraphQL server: the model store (STREAMLINES_MODELS_DIR), the
backtests kept with the models, and the operations of ``ml.service`` the mutations run as jobs.

Every method may raise ``streamlines.errors.UserError`` (an unknown model id, a corrupt
artifact, data missing in the stores): resolvers turn it into a ``QueryError`` with
``query_error``, jobs fail with its message.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from graphql_server.errors import QueryError
from ml import service
from ml.artifacts import ARTIFACT_NAME
from ml.backtest import BacktestSpec, Strategy
from ml.config import TrainingConfig
from ml.models import ModelRecord, ModelStore, model_store
from ml.results import BacktestRecord, BacktestStore
from streamlines.errors import UserError
from streamlines.settings import Settings

T = TypeVar("T")


def query_error(exc: UserError) -> QueryError:
    """The client's message of a UserError: what was wrong, then how to fix it."""
    message = str(exc.args[0]) if exc.args else "the request failed"
    return QueryError(f"{message} (fix: {exc.hint})" if exc.hint else message)


async def ask(call: Callable[..., T], *args: object) -> T:
    """``call(*args)`` on a worker thread (it reads files or the database); a UserError as a
    QueryError."""
    try:
        return await asyncio.to_thread(call, *args)
    except UserError as exc:
        raise query_error(exc) from None


@dataclass(frozen=True)
class Artifact:
    """A model's ``model.tar.gz`` as bytes, with its name, size and sha256."""

    model_id: str
    file_name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class PredictCounts:
    predictions: int
    points_written: int
    records_sent: int


class ModelCatalog:
    """The models, their backtests and the work on them, for the server's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def _store(self) -> ModelStore:
        # Built per call, as ml.service does: the folder may appear after the server started.
        return model_store(self.settings)

    def list_models(self) -> list[ModelRecord]:
        return self._store.list_models()

    def get(self, model_id: str) -> ModelRecord:
        return self._store.get(model_id)

    def backtests(self, model_id: str) -> list[BacktestRecord]:
        return BacktestStore(self.settings.model_store_dir).list_for(model_id)

    def backtest_record(self, backtest_id: str) -> BacktestRecord:
        return BacktestStore(self.settings.model_store_dir).get(backtest_id)

    def delete(self, model_id: str) -> list[str]:
        """Delete the model's backtests, then the model; the ids of the backtests deleted."""
        self._store.get(model_id)  # an unknown model: nothing deleted
        deleted = BacktestStore(self.settings.model_store_dir).delete_for(model_id)
        self._store.delete(model_id)
        return deleted

    def artifact(self, model_id: str) -> Artifact:
        local = self._store.load(model_id).path  # an S3 store's is its local copy
        return Artifact(model_id, ARTIFACT_NAME, local.read_bytes())

    def backtest_spec(self, model_id: str, strategy: Strategy, cost_bps: float) -> BacktestSpec:
        """The spec of a backtest of the model: its timeframe's periods per year and its
        label's kind (which sets the threshold), with this strategy and cost."""
        return service.backtest_spec(self.settings, model_id, strategy, cost_bps)

    def train(self, config: TrainingConfig, step: Callable[[str], None]) -> ModelRecord:
        return service.train_model(self.settings, config, step)

    def predict(self, model_id: str, symbols: list[str], start: datetime,
                end: datetime) -> PredictCounts:  # fmt: skip
        report = service.predict_range(self.settings, model_id, symbols, start, end).published
        return PredictCounts(report.predictions, report.points_written, report.records_sent)

    def backtest(self, model_id: str, start: datetime, end: datetime,
                 spec: BacktestSpec) -> BacktestRecord:  # fmt: skip
        return service.backtest_model(self.settings, model_id, start, end, spec)
