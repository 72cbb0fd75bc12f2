"""The live predictions subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.context import service
from graphql_server.errors import QueryError
from graphql_server.live import SubscriberTooSlow
from graphql_server.models.live import PredictionsHub
from graphql_server.models.types import PredictionPoint
from ml.models import MODEL_ID


@strawberry.type
class ModelsSubscription:
    @strawberry.subscription(
        description="Live predictions of these symbols (every model's, or only `modelId`'s): "
        "first the latest one the server has of each symbol and model, then every update as "
        "`predict` or the narwhal job publishes it."
    )
    async def predictions(
        self, info: Info, symbols: list[str], model_id: str | None = None
    ) -> AsyncGenerator[PredictionPoint, None]:
        wanted = validation.symbols(symbols)
        if model_id is not None and not MODEL_ID.match(model_id):
            raise QueryError(
                f"{model_id!r} is not a model id (<config name>-<yyyymmddThhmmss>-<6 hex>): "
                "the `models` query lists them"
            )
        models = None if model_id is None else [model_id]
        try:
            async for prediction in service(info, PredictionsHub).subscribe(wanted, models):
                yield PredictionPoint.from_event(prediction)
        except SubscriberTooSlow as exc:
            raise QueryError(str(exc)) from None
