"""Narwhal's mutations: train a model, score a range, backtest a model; each checks its
arguments at once (a bad config or model id starts no job) and returns its job."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_server import validation
from graphql_server.context import context
from graphql_server.jobs.registry import JobRegistry
from graphql_server.jobs.types import Job
from graphql_server.models import work
from graphql_server.models.catalog import ModelCatalog, query_error
from graphql_server.models.types import BacktestStrategy
from ml.config import parse_config
from streamlines.errors import UserError


def _names(symbols: list[str]) -> str:
    """The first few symbols, for a job's description."""
    return ", ".join(symbols[:5]) + (", ..." if len(symbols) > 5 else "")


async def _known_model(catalog: ModelCatalog, model_id: str) -> None:
    """A QueryError unless the store has the model (ml's message: malformed or unknown id)."""
    try:
        await asyncio.to_thread(catalog.get, model_id)
    except UserError as exc:
        raise query_error(exc) from None


@strawberry.type
class ModelsMutation:
    @strawberry.mutation(
        description="Train a model from a training config (the JSON document of `streamlines "
        "ml train`), checked first (a bad field is named, no job starts); returns the job at "
        "once. Its result's model_id names the model."
    )
    async def train_model(self, info: Info, config: JSON) -> Job:
        ctx = context(info)
        try:
            parsed = parse_config(config)  # type: ignore[arg-type]  # a dict, or JSON text
        except UserError as exc:
            raise query_error(exc) from None
        description = (
            f"train {parsed.name} on {len(parsed.symbols)} symbols ({_names(parsed.symbols)}) "
            f"from {parsed.start:%Y-%m-%d} to {parsed.end:%Y-%m-%d} ({parsed.backend})"
        )
        job = work.train(ctx.get(ModelCatalog), parsed)
        return Job.from_snapshot(ctx.get(JobRegistry).start("train_model", description, job))

    @strawberry.mutation(
        description="Score these symbols' bars starting in [start, end) with the model into "
        "the predictions bucket and topic (a re-run overwrites); returns the job at once."
    )
    async def predict(
        self, info: Info, model_id: str, symbols: list[str], start: datetime, end: datetime
    ) -> Job:
        ctx = context(info)
        wanted = validation.symbols(symbols, validation.MAX_JOB_SYMBOLS)
        window = validation.time_range(start, end, None)
        catalog = ctx.get(ModelCatalog)
        await _known_model(catalog, model_id)
        description = (
            f"predict {len(wanted)} symbols ({_names(wanted)}) with {model_id} from "
            f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"
        )
        job = work.predict(catalog, model_id, wanted, window.start, window.end)
        return Job.from_snapshot(ctx.get(JobRegistry).start("predict", description, job))

    @strawberry.mutation(
        description="Backtest the model on its symbols' bars in [start, end): trade its "
        "predictions with this strategy and cost (basis points per unit of position traded) "
        "against buy-and-hold; returns the job at once. Its result's backtest_id names the "
        "result (`backtestResult`)."
    )
    async def backtest(
        self,
        info: Info,
        model_id: str,
        start: datetime,
        end: datetime,
        strategy: BacktestStrategy = BacktestStrategy.LONG_FLAT,
        cost_bps: float = 5.0,
    ) -> Job:
        ctx = context(info)
        window = validation.time_range(start, end, None)
        catalog = ctx.get(ModelCatalog)
        try:
            spec = await asyncio.to_thread(
                catalog.backtest_spec, model_id, strategy.value, cost_bps
            )
        except UserError as exc:
            raise query_error(exc) from None
        description = (
            f"backtest {model_id} ({strategy.value}, {cost_bps:g} bps) from "
            f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"
        )
        job = work.backtest(catalog, model_id, window.start, window.end, spec)
        return Job.from_snapshot(ctx.get(JobRegistry).start("backtest", description, job))
