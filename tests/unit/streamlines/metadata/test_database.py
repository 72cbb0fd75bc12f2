"""The metadata database's URL: what is accepted (SQLite, PostgreSQL through psycopg), what is
refused with a UserError that says which URLs work, that no message shows a password, and a
write with no room."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from streamlines.errors import UserError
from streamlines.metadata.database import Database, database_url, open_database, safe_url
from streamlines.settings import Settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////var/lib/sl/metadata.db", "sqlite:////var/lib/sl/metadata.db"),
        ("sqlite+pysqlite:///metadata.db", "sqlite:///metadata.db"),
        ("postgresql://u:p@db:5432/sl", "postgresql+psycopg://u:p@db:5432/sl"),
        ("postgresql+psycopg://u:p@db/sl", "postgresql+psycopg://u:p@db/sl"),
    ],
)
def test_sqlite_and_postgresql_urls_are_accepted_with_the_installed_driver(url, expected):
    assert database_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "is not a database URL"),
        ("mysql://u:s3cret@db/sl", "is neither SQLite nor PostgreSQL"),
        ("postgresql+psycopg2://u:s3cret@db/sl", "is neither SQLite nor PostgreSQL"),
        ("postgresql+asyncpg://u:s3cret@db/sl", "is neither SQLite nor PostgreSQL"),
    ],
)
def test_other_urls_are_refused_with_the_ones_that_work(url, message):
    with pytest.raises(UserError, match=message) as caught:
        Database(url)
    assert "s3cret" not in str(caught.value)
    assert "sqlite:///PATH" in str(caught.value.hint)
    assert "postgresql+psycopg://" in str(caught.value.hint)


def test_safe_url_hides_the_password_also_of_a_url_that_does_not_parse():
    assert safe_url("postgresql://u:s3cret@db/sl") == "postgresql://u:***@db/sl"
    assert "s3cret" not in safe_url("post gres://u:s3cret@db/sl")


def test_a_sqlite_file_in_a_new_folder_is_created(tmp_path: Path):
    path = tmp_path / "a" / "b" / "metadata.db"
    database = open_database(Settings(database_url=f"sqlite:///{path}"))
    database.close()
    assert path.is_file()


def test_a_sqlite_folder_that_cannot_be_made_is_a_user_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UserError, match="cannot create") as caught:
        open_database(Settings(database_url=f"sqlite:///{blocker / 'sub' / 'metadata.db'}"))
    assert "STREAMLINES_DATABASE_URL" in str(caught.value.hint)


def test_a_file_that_is_not_a_database_is_a_user_error(tmp_path: Path):
    other = tmp_path / "notes.txt"
    other.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(UserError, match="cannot be opened: file is not a database") as caught:
        open_database(Settings(database_url=f"sqlite:///{other}"))
    assert "STREAMLINES_DATABASE_URL" in str(caught.value.hint)
    assert other.read_text().startswith("these are not")


def test_a_write_with_no_room_is_a_clear_error_and_others_pass_through(tmp_path):
    """SQLite's "database or disk is full" (and PostgreSQL's disk_full) is a UserError that
    says the write was rolled back and how to make room; any other database error is left as
    it was. (tests/faults fills a real filesystem.)"""
    database = Database(f"sqlite:///{tmp_path / 'm.db'}")
    full = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database or disk is full"))
    message = r"m\.db is out of space \(database or disk is full\)"
    with pytest.raises(UserError, match=message), database.session():
        raise full
    locked = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
    with pytest.raises(OperationalError), database.session():
        raise locked
    database.close()
