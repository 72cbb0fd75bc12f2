"""A real metadata database (SQLite, in the test's folder) with the users the in-process
requests act as (alice, bob and root get the user ids of ALICE, BOB and ROOT)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streamlines.metadata.accounts import Accounts
from streamlines.metadata.database import Database, open_database
from streamlines.settings import Settings
from tests.support.graphql import ALICE, BOB, ROOT
from tests.support.metadata import sqlite_url


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(database_url=sqlite_url(tmp_path)))
    accounts = Accounts(database)
    for principal in (ALICE, BOB, ROOT):
        assert accounts.add_user(principal.name, principal.is_admin).id == principal.user_id
    yield database
    database.close()
