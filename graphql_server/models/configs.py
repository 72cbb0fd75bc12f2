"""Training configs saved per user: ``saveTrainingConfig`` (checked as ``trainModel`` would;
each save under a name adds a version), ``trainingConfigs``, ``trainingConfig`` and
``deleteTrainingConfig``. A key sees its user's configs (an admin's: everyone's); someone
else's config id is answered as an unknown one."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_server.auth import require_key
from graphql_server.context import service
from graphql_server.errors import QueryError
from graphql_server.models.catalog import ask, query_error
from ml.config import parse_config
from streamlines.errors import UserError
from streamlines.metadata.configs import ConfigRecord, TrainingConfigs

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@strawberry.type(name="TrainingConfig", description="One version of a saved training config.")
class SavedTrainingConfig:
    id: int = strawberry.field(description="What `trainModel(configId:)` takes.")
    owner: str = strawberry.field(description="The user who saved it.")
    name: str
    version: int = strawberry.field(description="1 for the first save under the name, then +1.")
    config: JSON = strawberry.field(description="The config as validated (defaults filled in).")
    created_at: datetime

    @classmethod
    def from_record(cls, record: ConfigRecord) -> SavedTrainingConfig:
        return cls(id=record.id, owner=record.owner, name=record.name, version=record.version,
                   config=JSON(record.document), created_at=record.created_at)  # fmt: skip


def validated(config: Any) -> dict[str, Any]:
    """The config as ``trainModel`` would train it (JSON), or a QueryError naming each bad
    field."""
    try:
        return parse_config(config).to_json()
    except UserError as exc:
        raise query_error(exc) from None


@strawberry.type
class ConfigsQuery:
    @strawberry.field(
        description="Your saved training configs, every version, oldest first (an "
        "administrator's key: every user's); only those saved as `name` when given."
    )
    async def training_configs(
        self, info: Info, name: str | None = None
    ) -> list[SavedTrainingConfig]:
        principal = require_key(info)
        if name is not None and not _NAME.fullmatch(name):
            return []  # no config has such a name (and the database is not asked)
        found = await ask(service(info, TrainingConfigs).list, principal, name)
        return [SavedTrainingConfig.from_record(r) for r in found]

    @strawberry.field(description="One of your saved training configs, by id.")
    async def training_config(self, info: Info, id: int) -> SavedTrainingConfig | None:
        principal = require_key(info)
        found = await ask(service(info, TrainingConfigs).get, principal, id)
        return SavedTrainingConfig.from_record(found)


@strawberry.type
class ConfigsMutation:
    @strawberry.mutation(
        description="Save a training config (the JSON document of `trainModel`) under a name, "
        "checked first (a bad field is named, nothing is saved); saving under a name you used "
        "before adds a version."
    )
    async def save_training_config(
        self, info: Info, name: str, config: JSON
    ) -> SavedTrainingConfig | None:
        principal = require_key(info)
        if not _NAME.fullmatch(name):
            raise QueryError(
                f"config name {name[:80]!r} is not allowed: use 1 to 64 letters, digits and "
                ". _ -, starting with a letter or digit"
            )
        document = validated(config)
        saved = await ask(service(info, TrainingConfigs).save, principal, name, document)
        return SavedTrainingConfig.from_record(saved)

    @strawberry.mutation(
        description="Delete one version of your saved training configs; returns what was "
        "deleted (the models trained from it stay)."
    )
    async def delete_training_config(self, info: Info, id: int) -> SavedTrainingConfig | None:
        principal = require_key(info)
        deleted = await ask(service(info, TrainingConfigs).delete, principal, id)
        return SavedTrainingConfig.from_record(deleted)
