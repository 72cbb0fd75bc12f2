"""The jobs of ``trainModel``, ``predict`` and ``backtest``: ``ml.service``'s operations (through
the ``ModelCatalog``) run in the server's job registry, with their phases as progress and what
they made as the job's result."""

from __future__ import annotations

import math
from datetime import datetime

from graphql_server.jobs.registry import JobHandle, Work
from graphql_server.models.catalog import ModelCatalog
from ml.backtest import BacktestSpec
from ml.config import TrainingConfig

# ml.service.train_model's steps, in order (its step callback names each as it begins).
TRAIN_STEPS = 3


def _finite(metrics: dict[str, object]) -> dict[str, float]:
    """The numeric, finite metrics (a job's result is strict JSON)."""
    return {
        k: float(v) for k, v in metrics.items()
        if isinstance(v, int | float) and math.isfinite(v)
    }  # fmt: skip


def train(catalog: ModelCatalog, config: TrainingConfig) -> Work:
    """Train ``config``'s model and keep it in the store; the result names the model."""

    def work(handle: JobHandle) -> None:
        steps = 0
        handle.update(total=TRAIN_STEPS, done=0)

        def step(phase: str) -> None:
            nonlocal steps
            handle.update(phase=phase, done=min(steps, TRAIN_STEPS))
            steps += 1

        record = catalog.train(config, step)
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
             spec: BacktestSpec) -> Work:  # fmt: skip
    """Score the model's symbols over [start, end) and backtest them; the result holds the
    backtest's id (``backtestResult(id)``) and the portfolio's headline metrics."""

    def work(handle: JobHandle) -> None:
        handle.update(phase="scoring and backtesting", total=1, done=0)
        record = catalog.backtest(model_id, start, end, spec)
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
