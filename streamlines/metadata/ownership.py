"""Who owns which model and backtest. A model trained through the GraphQL server belongs to the
key's user; one with no owner row (trained with `streamlines ml train`, outside the server) is
shared: every key may read and use it, only admins may delete it."""

from __future__ import annotations

from sqlalchemy import delete, select

from streamlines.metadata.accounts import Principal
from streamlines.metadata.database import Database
from streamlines.metadata.tables import BacktestOwner, ModelOwner

SHARED = None  # the owner of a model with no owner row


class Ownership:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record_model(self, model_id: str, owner_id: int, config_id: int | None = None) -> None:
        with self.database.session() as session:
            session.merge(ModelOwner(model_id=model_id, owner_id=owner_id, config_id=config_id))

    def record_backtest(self, backtest_id: str, model_id: str, owner_id: int) -> None:
        with self.database.session() as session:
            session.merge(BacktestOwner(backtest_id=backtest_id, model_id=model_id,
                                        owner_id=owner_id))  # fmt: skip

    def model_owners(self) -> dict[str, int]:
        with self.database.session() as session:
            return dict(session.execute(select(ModelOwner.model_id, ModelOwner.owner_id)).tuples())

    def model_owner(self, model_id: str) -> int | None:
        with self.database.session() as session:
            return session.scalar(
                select(ModelOwner.owner_id).where(ModelOwner.model_id == model_id)
            )

    def backtest_owner(self, backtest_id: str) -> int | None:
        with self.database.session() as session:
            return session.scalar(
                select(BacktestOwner.owner_id).where(BacktestOwner.backtest_id == backtest_id)
            )

    def can_read_model(self, principal: Principal | None, model_id: str) -> bool:
        owner = self.model_owner(model_id)
        if owner is SHARED:
            return True
        return principal is not None and principal.owns(owner)

    def can_delete_model(self, principal: Principal, model_id: str) -> bool:
        owner = self.model_owner(model_id)
        return principal.is_admin if owner is SHARED else principal.owns(owner)

    def can_read_backtest(self, principal: Principal | None, backtest_id: str) -> bool:
        owner = self.backtest_owner(backtest_id)
        if owner is SHARED:
            return True
        return principal is not None and principal.owns(owner)

    def forget_model(self, model_id: str) -> None:
        with self.database.session() as session:
            session.execute(delete(BacktestOwner).where(BacktestOwner.model_id == model_id))
            session.execute(delete(ModelOwner).where(ModelOwner.model_id == model_id))
