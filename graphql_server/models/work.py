"""The jobs of ``trainModel``, ``predict`` and ``backtest``: ``ml.service``'s operations (through
the ``ModelCatalog``) run in the server's job registry, with their phases as progress and what
they made as the job's result. The model or backtest made belongs to the job's owner (recorded
before the job finishes)."""

from __future__ import annotations

import math
from datetime import datetime

from graphql_server.jobs.registry import JobHandle, Work
from graphql_server.models.catalog import ModelCatalog
from ml.backtest import BacktestSpec
from ml.config import TrainingConfig
from streamlines.metadata.ownership import Ownership

# ml.service.train_model's steps, in order (its step callback names each as it begins).
TRAIN_STEPS = 3


def _finite(metrics: dict[str, object]) -> dict[str, float]:
    """The numeric, finite metrics (a job's result is strict JSON)."""
    return {
        k: float(v) for k, v in metrics.items()
        if isinstance(v, int | float) and math.isfinite(v)
    }  # fmt: skip


def train(catalog: ModelCatalog, config: TrainingConfig, ownership: Ownership, owner_id: int,
          config_id: int | None = None) -> Work:  # fmt: skip
    """Train ``config``'s model, keep it in the store as ``owner_id``'s (trained from their
    saved config ``config_id``, if from one); the result names the model."""

    def work(handle: JobHandle) -> None:
        steps = 0
        handle.update(total=TRAIN_STEPS, done=0)

        def step(phase: str) -> None:
            nonlocal steps
            handle.update(phase=phase, done=min(steps, TRAIN_STEPS))
            steps += 1

        record = catalog.train(config, step)
        try:
            ownership.record_model(record.model_id, owner_id, config_id)
        except Exception:
            catalog.delete(record.model_id)  # without an owner it would be shared with all
            raise
        handle.update(done=TRAIN_STEPS,
                      result={"model_id": record.model_id, **_finite(record.metrics)})  # fmt: skip

    return work


def predict(catalog: ModelCatalog, model_id: str, symbols: list[str], start: datetime,
            end: datetime) -> Work:  # fmt: skip
    """Score the symbols' bars in [start, end) into the predictions bucket and topic."""

    def work(handle: JobHandle) -> None:
        handle.update(phase="scoring and publishing", total=1, done=0)
        counts = catalog.predict(model_id, symbols, start, end)
        handle.add_items(counts.predictions)
        handle.update(
            done=1,
            result={
                "model_id": model_id,
                "predictions": counts.predictions,
                "points_written": counts.points_written,
                "records_sent": counts.records_sent,
            },
        )

    return work


def backtest(catalog: ModelCatalog, model_id: str, start: datetime, end: datetime,
             spec: BacktestSpec, ownership: Ownership, owner_id: int) -> Work:  # fmt: skip
    """Score the model's symbols over [start, end) and backtest them, as ``owner_id``'s
    backtest; the result holds its id (``backtestResult(id)``) and the portfolio's headline
    metrics."""

    def work(handle: JobHandle) -> None:
        handle.update(phase="scoring and backtesting", total=1, done=0)
        record = catalog.backtest(model_id, start, end, spec)
        ownership.record_backtest(record.backtest_id, model_id, owner_id)
        portfolio = record.result.portfolio
        handle.add_items(portfolio.strategy.bars)
        handle.update(
            done=1,
            result={
                "backtest_id": record.backtest_id,
                "model_id": model_id,
                **_finite(
                    {
                        "total_return": portfolio.strategy.total_return,
                        "buy_and_hold_total_return": portfolio.buy_and_hold.total_return,
                        "sharpe": portfolio.strategy.sharpe,
                    }
                ),
            },
        )

    return work
