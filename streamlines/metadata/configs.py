"""Users' training configs: saved under a name (each save a new version), listed, read and
deleted by their owner (or an admin)."""

from __future__ import annotations

import threading
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from streamlines.errors import UserError
from streamlines.metadata.accounts import Principal
from streamlines.metadata.database import Database
from streamlines.metadata.tables import TrainingConfig, User

_SAVE_ATTEMPTS = 5


@dataclass(frozen=True)
class ConfigRecord:
    id: int
    owner: str
    name: str
    version: int
    document: dict[str, Any]
    created_at: datetime


def _record(row: TrainingConfig, owner: str) -> ConfigRecord:
    return ConfigRecord(row.id, owner, row.name, row.version, row.document, row.created_at)


def _not_found(config_id: int) -> UserError:
    # The same answer whether it does not exist or is someone else's: ids reveal nothing.
    return UserError(f"no training config {config_id}",
                     "`trainingConfigs` lists the ids of yours")  # fmt: skip


class TrainingConfigs:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._saving = threading.Lock()

    def save(self, principal: Principal, name: str, document: dict[str, Any]) -> ConfigRecord:
        """A new version of the principal's config ``name`` (version 1 if it is new)."""
        # Two saves at once would both take the next version: one waits here (this process),
        # the unique constraint turns away the other process's, which tries the next one.
        with self._saving:
            for _ in range(_SAVE_ATTEMPTS - 1):
                with suppress(IntegrityError):
                    return self._save_next_version(principal, name, document)
            return self._save_next_version(principal, name, document)

    def _save_next_version(self, principal: Principal, name: str,
                           document: dict[str, Any]) -> ConfigRecord:  # fmt: skip
        with self.database.session() as session:
            latest = session.scalar(
                select(func.max(TrainingConfig.version)).where(
                    TrainingConfig.owner_id == principal.user_id, TrainingConfig.name == name
                )
            )
            row = TrainingConfig(owner_id=principal.user_id, name=name,
                                 version=(latest or 0) + 1, document=document)  # fmt: skip
            session.add(row)
            session.flush()
            return _record(row, principal.name)

    def list(self, principal: Principal, name: str | None = None) -> list[ConfigRecord]:
        """The principal's configs (every user's, for an admin), every version, oldest first."""
        with self.database.session() as session:
            query = select(TrainingConfig, User.name).join(User).order_by(TrainingConfig.id)
            if not principal.is_admin:
                query = query.where(TrainingConfig.owner_id == principal.user_id)
            if name is not None:
                query = query.where(TrainingConfig.name == name)
            return [_record(row, owner) for row, owner in session.execute(query).all()]

    def get(self, principal: Principal, config_id: int) -> ConfigRecord:
        with self.database.session() as session:
            found = session.execute(
                select(TrainingConfig, User.name).join(User).where(TrainingConfig.id == config_id)
            ).one_or_none()
            if found is None or not principal.owns(found[0].owner_id):
                raise _not_found(config_id)
            return _record(*found)

    def delete(self, principal: Principal, config_id: int) -> ConfigRecord:
        record = self.get(principal, config_id)
        with self.database.session() as session:
            session.execute(delete(TrainingConfig).where(TrainingConfig.id == config_id))
        return record
