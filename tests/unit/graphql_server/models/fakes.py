"""A ModelCatalog whose work is recorded, not run (the reads are the real store's)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from graphql_server.models.catalog import ModelCatalog, PredictCounts
from ml.backtest import BacktestSpec
from ml.config import TrainingConfig
from ml.models import ModelRecord
from ml.results import BacktestRecord
from streamlines.errors import UserError
from tests.unit.graphql_server.models.conftest import Stored


class FakeCatalog(ModelCatalog):
    """Reads the stored model and backtest; ``train``, ``predict`` and ``backtest`` record
    their arguments and answer with them (or raise ``fail``)."""

    def __init__(self, stored: Stored, fail: UserError | None = None) -> None:
        super().__init__(stored.settings)
        self.stored = stored
        self.fail = fail
        self.calls: list[tuple] = []

    def _run(self, *call: object) -> None:
        self.calls.append(call)
        if self.fail is not None:
            raise self.fail

    def train(self, config: TrainingConfig, step: Callable[[str], None]) -> ModelRecord:
        for phase in ("loading bars and indicators", "training on 10 rows", "saving the model"):
            step(phase)
        self._run("train", config)
        return self.stored.model

    def predict(self, model_id: str, symbols: list[str], start: datetime,
                end: datetime) -> PredictCounts:  # fmt: skip
        self._run("predict", model_id, symbols, start, end)
        return PredictCounts(7, 7, 7)

    def backtest(self, model_id: str, start: datetime, end: datetime,
                 spec: BacktestSpec) -> BacktestRecord:  # fmt: skip
        self._run("backtest", model_id, start, end, spec)
        return replace(self.stored.backtest, start=start, end=end)
