"""Narwhal's mutations: train a model, score a range, backtest a model, delete a model. Each
needs a key and checks its arguments at once (a bad config or a model the key may not use
starts no job); the jobs belong to the key's user, as do the models and backtests they make."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import require_key
from graphql_server.context import context
from graphql_server.errors import QueryError
from graphql_server.jobs.registry import JobRegistry
from graphql_server.jobs.types import Job
from graphql_server.models import work
from graphql_server.models.access import model_access
from graphql_server.models.catalog import ModelCatalog, ask, query_error
from graphql_server.models.types import BacktestStrategy
from ml.config import TrainingConfig, parse_config
from streamlines.errors import UserError
from streamlines.metadata.accounts import Principal
from streamlines.metadata.configs import TrainingConfigs
from streamlines.metadata.ownership import Ownership


def _names(symbols: list[str]) -> str:
    """The first few symbols, for a job's description."""
    return ", ".join(symbols[:5]) + (", ..." if len(symbols) > 5 else "")


async def _training_config(
    info: Info, principal: Principal, config: JSON | None, config_id: int | None
) -> TrainingConfig:
    """The config to train: the document given, or the principal's saved one; checked."""
    if (config is None) == (config_id is None):
        raise QueryError(
            "give exactly one of `config` (a training config document) and `configId` (one "
            "of your saved configs: `trainingConfigs` lists them)"
        )
    if config_id is not None:
        saved = await ask(context(info).get(TrainingConfigs).get, principal, config_id)
        config = JSON(saved.document)
    try:
        return parse_config(config)  # type: ignore[arg-type]  # a dict, or JSON text
    except UserError as exc:
        raise query_error(exc) from None


@strawberry.type(description="A model deleted, with its backtests.")
class DeletedModel:
    id: str
    backtests: list[str] = strawberry.field(description="The ids of its backtests deleted.")


@strawberry.type
class ModelsMutation:
    @strawberry.mutation(
        description="Train a model from a training config: `config`, the JSON document of "
        "`streamlines ml train`, or `configId`, one of your saved configs (one of the two). "
        "Checked first (a bad field is named, no job starts); returns the job at once. Its "
        "result's model_id names the model, which is yours."
    )
    async def train_model(
        self, info: Info, config: JSON | None = None, config_id: int | None = None
    ) -> Job:
        principal = require_key(info)
        ctx = context(info)
        parsed = await _training_config(info, principal, config, config_id)
        description = (
            f"train {parsed.name} on {len(parsed.symbols)} symbols ({_names(parsed.symbols)}) "
            f"from {parsed.start:%Y-%m-%d} to {parsed.end:%Y-%m-%d} ({parsed.backend})"
        )
        job = work.train(ctx.get(ModelCatalog), parsed, ctx.get(Ownership), principal.user_id,
                         config_id)  # fmt: skip
        return Job.from_snapshot(ctx.get(JobRegistry).start(
            "train_model", description, job, owner_id=principal.user_id))  # fmt: skip

    @strawberry.mutation(
        description="Score these symbols' bars starting in [start, end) with the model into "
        "the predictions bucket and topic (a re-run overwrites); returns the job at once."
    )
    async def predict(
        self, info: Info, model_id: str, symbols: list[str], start: datetime, end: datetime
    ) -> Job:
        principal = require_key(info)
        ctx = context(info)
        wanted = validation.symbols(symbols, validation.MAX_JOB_SYMBOLS)
        window = validation.time_range(start, end, None)
        access = model_access(info, principal)
        await ask(access.model, model_id)
        description = (
            f"predict {len(wanted)} symbols ({_names(wanted)}) with {model_id} from "
            f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"
        )
        job = work.predict(access.catalog, model_id, wanted, window.start, window.end)
        return Job.from_snapshot(ctx.get(JobRegistry).start(
            "predict", description, job, owner_id=principal.user_id))  # fmt: skip

    @strawberry.mutation(
        description="Backtest the model on its symbols' bars in [start, end): trade its "
        "predictions with this strategy and cost (basis points per unit of position traded) "
        "against buy-and-hold; returns the job at once. Its result's backtest_id names the "
        "result (`backtestResult`), which is yours."
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
        principal = require_key(info)
        ctx = context(info)
        window = validation.time_range(start, end, None)
        access = model_access(info, principal)
        await ask(access.model, model_id)
        spec = await ask(access.catalog.backtest_spec, model_id, strategy.value, cost_bps)
        description = (
            f"backtest {model_id} ({strategy.value}, {cost_bps:g} bps) from "
            f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"
        )
        job = work.backtest(access.catalog, model_id, window.start, window.end, spec,
                            ctx.get(Ownership), principal.user_id)  # fmt: skip
        return Job.from_snapshot(ctx.get(JobRegistry).start(
            "backtest", description, job, owner_id=principal.user_id))  # fmt: skip

    @strawberry.mutation(
        description="Delete a model of yours (an administrator: anyone's, and the shared "
        "ones) from the model store, with its backtests; its stored predictions stay."
    )
    async def delete_model(self, info: Info, id: str) -> DeletedModel:
        access = model_access(info, require_key(info))
        deleted = await ask(access.delete_model, id)
        return DeletedModel(id=id, backtests=deleted)
