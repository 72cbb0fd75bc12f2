"""Who may see and change which model and backtest.

A model trained through the server belongs to the key's user; one with no owner row (trained
with ``streamlines ml train``) is shared: every key may read and use it, only admins may delete
it. A backtest belongs to the key that ran it (one with no row is shared), and is readable only
with its model. Someone else's private model or backtest gets exactly the answer of an unknown
id, so ids reveal nothing.

Every method reads files or the database: call them on a worker thread. They raise
``UserError`` (an unknown or hidden id, a malformed one) or ``AuthError`` (a shared model that
only an admin may delete).
"""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.types import Info

from graphql_server.auth import AuthError
from graphql_server.context import context
from graphql_server.models.catalog import ModelCatalog
from ml.models import MODEL_ID, ModelRecord, UnknownModel
from ml.results import BACKTEST_ID, BacktestRecord, UnknownBacktest
from streamlines.errors import UserError
from streamlines.metadata.accounts import Principal
from streamlines.metadata.ownership import Owner, Ownership


def unknown_model(model_id: str) -> UnknownModel:
    return UnknownModel(f"unknown model {model_id!r}",
                        "the `models` query lists the models your key may use")  # fmt: skip


def unknown_backtest(backtest_id: str) -> UserError:
    return UserError(f"no backtest {backtest_id!r}",
                     "a model's `backtests` lists the backtests your key may read")  # fmt: skip


def well_formed_model_id(model_id: str) -> None:
    """A UserError unless ``model_id`` has a model id's form (checked before any lookup)."""
    if not MODEL_ID.fullmatch(model_id):
        raise UserError(f"{model_id[:80]!r} is not a model id (<config name>-<yyyymmddThhmmss>-"
                        "<6 hex>)", "the `models` query lists them")  # fmt: skip


@dataclass(frozen=True)
class OwnedModel:
    record: ModelRecord
    owner: Owner | None  # None: shared


class ModelAccess:
    """The models and backtests as ``principal`` (None: a request without a key) may see
    them."""

    def __init__(
        self, catalog: ModelCatalog, ownership: Ownership, principal: Principal | None
    ) -> None:
        self.catalog = catalog
        self.ownership = ownership
        self.principal = principal

    def _may_read(self, owner_id: int | None) -> bool:
        return owner_id is None or (self.principal is not None and self.principal.owns(owner_id))

    def models(self) -> list[OwnedModel]:
        """The shared models and the principal's own (an admin's: all), oldest first."""
        owners = self.ownership.model_owners_named()
        listed = [OwnedModel(r, owners.get(r.model_id)) for r in self.catalog.list_models()]
        return [m for m in listed if self._may_read(m.owner.id if m.owner else None)]

    def model(self, model_id: str) -> OwnedModel:
        well_formed_model_id(model_id)
        owner = self.ownership.model_owner_named(model_id)
        if not self._may_read(owner.id if owner else None):
            raise unknown_model(model_id)
        try:
            return OwnedModel(self.catalog.get(model_id), owner)
        except UnknownModel:
            raise unknown_model(model_id) from None

    def backtests(self, model_id: str) -> list[BacktestRecord]:
        """The model's backtests the principal may read, oldest first."""
        owners = self.ownership.backtest_owners(model_id)
        return [b for b in self.catalog.backtests(model_id)
                if self._may_read(owners.get(b.backtest_id))]  # fmt: skip

    def backtest(self, backtest_id: str) -> BacktestRecord:
        """The backtest, if the principal may read it and its model."""
        if not BACKTEST_ID.fullmatch(backtest_id):
            raise UserError(f"{backtest_id[:80]!r} is not a backtest id (bt-<yyyymmddThhmmss>-"
                            "<6 hex>)", "a model's `backtests` lists them")  # fmt: skip
        if not self._may_read(self.ownership.backtest_owner(backtest_id)):
            raise unknown_backtest(backtest_id)
        try:
            record = self.catalog.backtest_record(backtest_id)
        except UnknownBacktest:
            raise unknown_backtest(backtest_id) from None
        if not self._may_read(self.ownership.model_owner(record.model_id)):
            raise unknown_backtest(backtest_id)
        return record

    def delete_model(self, model_id: str) -> list[str]:
        """Delete the model (its owner or an admin; a shared one: an admin), its backtests and
        its ownership rows; the ids of the backtests deleted."""
        found = self.model(model_id)
        if found.owner is None and not (self.principal and self.principal.is_admin):
            raise AuthError(f"model {model_id!r} is shared: only an administrator may delete it",
                            "FORBIDDEN")  # fmt: skip
        deleted = self.catalog.delete(model_id)
        # Last: were the rows gone first, a failed delete would leave a private model shared.
        self.ownership.forget_model(model_id)
        return deleted


def model_access(info: Info, principal: Principal | None) -> ModelAccess:
    """The request's view of the models, as ``principal``."""
    ctx = context(info)
    return ModelAccess(ctx.get(ModelCatalog), ctx.get(Ownership), principal)
