"""A fresh, migrated metadata database per test, on SQLite and on PostgreSQL (``metadata_url``),
and its users as requests see them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from streamlines.metadata.accounts import Accounts, Principal
from streamlines.metadata.database import Database, open_database
from streamlines.settings import Settings


@pytest.fixture
def database(metadata_url: str) -> Iterator[Database]:
    database = open_database(Settings(database_url=metadata_url))
    yield database
    database.close()


@pytest.fixture
def accounts(database: Database) -> Accounts:
    return Accounts(database)


@dataclass(frozen=True)
class People:
    """alice and bob (plain users) and root (an admin), each as their key authenticates."""

    alice: Principal
    bob: Principal
    root: Principal


def _principal(accounts: Accounts, name: str, admin: bool) -> Principal:
    accounts.add_user(name, admin)
    found = accounts.authenticate(accounts.create_key(name).secret)
    assert found is not None
    return found


@pytest.fixture
def people(accounts: Accounts) -> People:
    return People(
        *(_principal(accounts, name, name == "root") for name in ("alice", "bob", "root"))
    )
