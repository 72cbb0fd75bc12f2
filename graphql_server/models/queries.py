"""Narwhal's queries: the models, one model, its stored predictions, a backtest's result and a
model's artifact. Each needs a key (the predictions of a shared model are market data: open
when the server's data is public); someone else's private model or backtest is answered as an
unknown id (``graphql_server.models.access``)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read, require_key
from graphql_server.context import context
from graphql_server.errors import QueryError
from graphql_server.models.access import model_access
from graphql_server.models.catalog import ask
from graphql_server.models.store import PredictionStore
from graphql_server.models.types import BacktestResult, Model, ModelExport, PredictionPoint


@strawberry.type
class ModelsQuery:
    @strawberry.field(
        description="The trained models your key may use, oldest first: the shared ones and "
        "your own (an administrator's key: all)."
    )
    async def models(self, info: Info) -> list[Model]:
        access = model_access(info, require_key(info))
        return [Model.from_owned(m) for m in await ask(access.models)]

    @strawberry.field(
        description="One model: its config, metrics per fold and their mean, features and "
        "their importance, data range and backtests."
    )
    async def model(self, info: Info, id: str) -> Model | None:
        access = model_access(info, require_key(info))
        return Model.from_owned(await ask(access.model, id))

    @strawberry.field(
        description="The model's stored predictions for the symbol's bars starting in "
        "[start, end), oldest first (`predict` writes them, as does the narwhal job). A private "
        "model's need its owner's key."
    )
    async def predictions(
        self, info: Info, symbol: str, start: datetime, end: datetime, model_id: str
    ) -> list[PredictionPoint]:
        ctx = context(info)
        access = model_access(info, public_read(info))
        symbol = validation.symbol(symbol)
        window = validation.time_range(start, end, None)
        await ask(access.model, model_id)
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
        access = model_access(info, require_key(info))
        return BacktestResult.from_record(await ask(access.backtest, id))

    @strawberry.field(
        description="The model's artifact, model.tar.gz (the layout of SageMaker's built-in "
        "XGBoost: xgboost-model at the root, loadable with plain xgboost), as base64 with its "
        "sha256."
    )
    async def export_model(self, info: Info, id: str) -> ModelExport | None:
        access = model_access(info, require_key(info))
        await ask(access.model, id)
        return ModelExport.from_artifact(await ask(access.catalog.artifact, id))
