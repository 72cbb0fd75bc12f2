"""Opening the metadata database, on SQLite and PostgreSQL: a fresh one is migrated to the
newest schema, which is exactly the ORM's tables; an open one is left alone; one that does not
answer is a UserError that names it, without its password, and says what to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect

from streamlines.errors import UserError
from streamlines.metadata.accounts import Accounts
from streamlines.metadata.database import Database, open_database
from streamlines.metadata.tables import Base
from streamlines.settings import Settings

WRITES = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE")
TABLES = {"users", "api_keys", "training_configs", "models", "backtests", "jobs", "bar_deletions"}


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements the database's engine sends inside the block."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def test_a_fresh_database_is_migrated_to_the_newest_schema(metadata_url):
    database = open_database(Settings(database_url=metadata_url))
    try:
        assert database.current_revision() == database.head_revision() is not None
        assert TABLES | {"alembic_version"} == set(inspect(database.engine).get_table_names())
        with database.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        database.close()


def test_opening_a_migrated_database_again_changes_nothing(metadata_url):
    first = open_database(Settings(database_url=metadata_url))
    Accounts(first).add_user("alice")
    first.close()

    again = Database(metadata_url)
    try:
        with _statements(again) as sent:
            again.migrate()
        assert sent  # it did look
        assert not [s for s in sent if s.split()[0].upper() in WRITES]
        reopened = open_database(Settings(database_url=metadata_url))
        assert [u.name for u in Accounts(reopened).users()] == ["alice"]
        reopened.close()
    finally:
        again.close()


def test_an_unreachable_postgresql_is_a_user_error_without_the_password():
    url = "postgresql+psycopg://someone:pa55-w0rd@127.0.0.1:1/metadata"
    with pytest.raises(UserError) as caught:
        open_database(Settings(database_url=url))
    message, hint = str(caught.value), str(caught.value.hint)
    assert "pa55-w0rd" not in message
    assert "postgresql+psycopg://someone:***@127.0.0.1:1/metadata did not answer" in message
    assert "streamlines stack up postgres" in hint
    assert "unset STREAMLINES_DATABASE_URL to use SQLite" in hint


def test_a_wrong_postgresql_password_is_a_user_error_without_it(stack, settings):
    url = settings.postgres_url.replace(
        f":{settings.postgres_password.get_secret_value()}@", ":not-the-pa55word@"
    )
    with pytest.raises(UserError) as caught:
        open_database(Settings(database_url=url))
    assert "not-the-pa55word" not in str(caught.value)
    assert "password authentication failed" in str(caught.value)
    assert "password" in str(caught.value.hint)


def test_db_status_of_an_unreachable_database_is_a_user_error_too():
    database = Database("postgresql://someone:pa55-w0rd@127.0.0.1:1/metadata")
    with pytest.raises(UserError, match="did not answer") as caught:
        database.current_revision()
    assert "pa55-w0rd" not in str(caught.value)
