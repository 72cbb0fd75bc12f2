"""The metadata database in tests: a fresh one per test, on SQLite or on the local stack's
PostgreSQL (a database of its own, dropped afterwards), and users with API keys in it.

``metadata_url`` runs a test once per backend; ``sqlite_metadata_url`` only on SQLite (for the
many tests about something else that merely need a server with a database)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from streamlines.metadata.accounts import Accounts
from streamlines.metadata.database import open_database
from streamlines.settings import Settings

BACKENDS = ("sqlite", "postgresql")


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'metadata.db'}"


def _admin_connection(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(
        host=settings.host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        password=settings.postgres_password.get_secret_value(),
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    )


def postgres_database(settings: Settings) -> Iterator[str]:
    """A new, empty database on the stack's PostgreSQL; its URL; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin_connection(settings) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield settings.postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with _admin_connection(settings) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh metadata database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    request.getfixturevalue("stack")
    yield from postgres_database(request.getfixturevalue("settings"))


@pytest.fixture
def sqlite_metadata_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


@dataclass(frozen=True)
class Keys:
    """API keys of three users: alice and bob (plain users) and root (an administrator)."""

    url: str
    alice: str
    bob: str
    root: str


def make_keys(url: str) -> Keys:
    accounts = Accounts(open_database(Settings(database_url=url)))
    secrets = {}
    for name, admin in (("alice", False), ("bob", False), ("root", True)):
        accounts.add_user(name, admin)
        secrets[name] = accounts.create_key(name, "tests").secret
    return Keys(url, **secrets)


@pytest.fixture
def keys(metadata_url: str) -> Keys:
    """Users alice, bob and root (admin) with a key each, on both backends."""
    return make_keys(metadata_url)


@pytest.fixture
def sqlite_keys(sqlite_metadata_url: str) -> Keys:
    """Users alice, bob and root (admin) with a key each, on SQLite."""
    return make_keys(sqlite_metadata_url)
