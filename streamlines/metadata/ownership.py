"""Who owns which model and backtest. A model trained through the GraphQL server belongs to the
key's user; one with no owner row (trained with `streamlines ml train`, outside the server) is
shared: every key may read and use it, only admins may delete it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from streamlines.metadata.accounts import Principal
from streamlines.metadata.database import Database
from streamlines.metadata.tables import BacktestOwner, ModelOwner, User

SHARED = None  # the owner of a model with no owner row


@dataclass(frozen=True)
class Owner:
    id: int
    name: str


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
            # .all(): a Result has keys(), so dict() would take it for a mapping.
            return dict(session.execute(select(ModelOwner.model_id, ModelOwner.owner_id)).all())

    def model_owner(self, model_id: str) -> int | None:
        with self.database.session() as session:
            return session.scalar(
                select(ModelOwner.owner_id).where(ModelOwner.model_id == model_id)
            )

    def model_owners_named(self) -> dict[str, Owner]:
        """Each owned model's owner, with the user's name (a model missing here is shared)."""
        with self.database.session() as session:
            rows = session.execute(select(ModelOwner.model_id, User.id, User.name).join(User)).all()
            return {model_id: Owner(user_id, name) for model_id, user_id, name in rows}

    def model_owner_named(self, model_id: str) -> Owner | None:
        """The model's owner with the user's name; None for a shared model."""
        with self.database.session() as session:
            row = session.execute(
                select(User.id, User.name).join(ModelOwner).where(ModelOwner.model_id == model_id)
            ).one_or_none()
            return None if row is None else Owner(row.id, row.name)

    def backtest_owners(self, model_id: str) -> dict[str, int]:
        """The owner of each of the model's backtests that has one (the others are shared)."""
        with self.database.session() as session:
            query = select(BacktestOwner.backtest_id, BacktestOwner.owner_id).where(
                BacktestOwner.model_id == model_id
            )
            return dict(session.execute(query).all())

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
