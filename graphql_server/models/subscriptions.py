"""The live predictions subscription: of the models the key may use. Someone else's private
model, like an unknown or deleted one, sends nothing. What a key may see is decided per
subscription before an update is yielded; its payload is then executed once per selection for
all the subscribers that may see it (``graphql_server.fanout``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.context import service
from graphql_server.errors import QueryError
from graphql_server.fanout import shared
from graphql_server.live import SubscriberTooSlow
from graphql_server.models.access import ModelAccess, model_access, well_formed_model_id
from graphql_server.models.catalog import query_error
from graphql_server.models.live import PredictionsHub
from graphql_server.models.types import PredictionPoint
from ml.models import UnknownModel
from streamlines.errors import UserError

log = logging.getLogger(__name__)


class VisibleModels:
    """Whether the request may see a model's predictions (``ModelAccess.model``), looked up
    once per model and subscription (again after an error that may pass, e.g. S3 down)."""

    def __init__(self, access: ModelAccess) -> None:
        self.access = access
        self._known: dict[str, bool] = {}

    def _check(self, model_id: str) -> bool | None:
        try:
            self.access.model(model_id)
        except UnknownModel:  # unknown, deleted, or someone else's
            return False
        except UserError as exc:
            log.warning("predictions of %s held back: %s", model_id, exc)
            return None
        return True

    async def visible(self, model_id: str) -> bool:
        found = self._known.get(model_id)
        if found is None:
            found = await asyncio.to_thread(self._check, model_id)
            if found is None:
                return False
            self._known[model_id] = found
        return found


@strawberry.type
class ModelsSubscription:
    @strawberry.subscription(
        description="Live predictions of these symbols (every model's your key may use, or "
        "only `modelId`'s): first the latest one the server has of each symbol and model, then "
        "every update as `predict` or the narwhal job publishes it."
    )
    async def predictions(
        self, info: Info, symbols: list[str], model_id: str | None = None
    ) -> AsyncGenerator[PredictionPoint, None]:
        models = VisibleModels(model_access(info, public_read(info)))
        wanted = validation.symbols(symbols)
        if model_id is not None:
            try:
                well_formed_model_id(model_id)
            except UserError as exc:
                raise query_error(exc) from None
        only = None if model_id is None else [model_id]
        try:
            async for prediction in service(info, PredictionsHub).subscribe(wanted, only):
                if await models.visible(prediction.model_id):
                    yield shared(prediction, PredictionPoint.from_event)
        except SubscriberTooSlow as exc:
            raise QueryError(str(exc)) from None
