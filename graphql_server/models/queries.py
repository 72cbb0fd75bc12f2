"""Narwhal's queries: the models, one model, its stored predictions, a backtest's result and a
model's artifact."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.context import context, service
from graphql_server.errors import QueryError
from graphql_server.models.catalog import ModelCatalog, query_error
from graphql_server.models.store import PredictionStore
from graphql_server.models.types import BacktestResult, Model, ModelExport, PredictionPoint
from streamlines.errors import UserError

T = TypeVar("T")


async def _ask(read: Callable[..., T], *args: object) -> T:
    """``read(*args)`` on a worker thread (the store reads files); a UserError as a
    QueryError."""
    try:
        return await asyncio.to_thread(read, *args)
    except UserError as exc:
        raise query_error(exc) from None


@strawberry.type
class ModelsQuery:
    @strawberry.field(description="The trained models in the model store, oldest first.")
    async def models(self, info: Info) -> list[Model]:
        records = await _ask(service(info, ModelCatalog).list_models)
        return [Model.from_record(r) for r in records]

    @strawberry.field(
        description="One model: its config, metrics per fold and their mean, features and "
        "their importance, data range and backtests."
    )
    async def model(self, info: Info, id: str) -> Model | None:
        return Model.from_record(await _ask(service(info, ModelCatalog).get, id))

    @strawberry.field(
        description="The model's stored predictions for the symbol's bars starting in "
        "[start, end), oldest first (`predict` writes them, as does the narwhal job)."
    )
    async def predictions(
        self, info: Info, symbol: str, start: datetime, end: datetime, model_id: str
    ) -> list[PredictionPoint]:
        ctx = context(info)
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end, None)
        await _ask(ctx.get(ModelCatalog).get, model_id)
        max_points = ctx.settings.graphql_max_points
        found = await asyncio.to_thread(
            ctx.get(PredictionStore).predictions, symbol, model_id, window, max_points + 1
        )
        if len(found) > max_points:
            raise QueryError(
                f"more than {max_points:,} predictions in that range (the server's limit, "
                "STREAMLINES_GRAPHQL_MAX_POINTS): ask for a shorter range"
            )
        return [PredictionPoint.from_stored(p) for p in found]

    @strawberry.field(
        description="A stored backtest (the id is in its job's result): the spec, the "
        "strategy's and buy-and-hold's metrics and equity curves, of the portfolio and of "
        "each symbol."
    )
    async def backtest_result(self, info: Info, id: str) -> BacktestResult | None:
        return BacktestResult.from_record(await _ask(service(info, ModelCatalog).backtest_record,
                                                     id))  # fmt: skip

    @strawberry.field(
        description="The model's artifact, model.tar.gz (the layout of SageMaker's built-in "
        "XGBoost: xgboost-model at the root, loadable with plain xgboost), as base64 with its "
        "sha256."
    )
    async def export_model(self, info: Info, id: str) -> ModelExport | None:
        return ModelExport.from_artifact(await _ask(service(info, ModelCatalog).artifact, id))
