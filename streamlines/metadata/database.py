"""The connection to the metadata database: an engine for ``settings.metadata_url``, sessions,
and the migration of its schema to the newest version (Alembic, on first use)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked; WAL lets the server read while a job writes.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class Database:
    """The metadata database. ``open_database`` is the way to get one (migrated)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(alembic_config(self.url)).get_current_head()

    def migrate(self) -> None:
        """Bring the schema to the newest migration (nothing to do when it is there)."""
        if self.current_revision() == self.head_revision():
            return
        log.info("migrating the metadata database %s to %s", safe_url(self.url),
                 self.head_revision())  # fmt: skip
        config = alembic_config(self.url)
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings) -> Database:
    """The settings' metadata database, migrated to the newest schema (once per URL and
    process). An unreachable database is a UserError that names it."""
    database = Database(settings.metadata_url)
    try:
        with _migrate_lock:
            if database.url not in _migrated:
                database.migrate()
                _migrated.add(database.url)
    except OperationalError as exc:
        database.close()
        raise UserError(
            f"the metadata database {safe_url(database.url)} did not answer: "
            f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}",
            "start it (`streamlines stack up postgres` for the local stack's PostgreSQL) or "
            "unset STREAMLINES_DATABASE_URL to use SQLite",
        ) from None
    return database
