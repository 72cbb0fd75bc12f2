"""The connection to the metadata database: an engine for ``settings.metadata_url``, sessions,
and the migration of its schema to the newest version (Alembic, on first use)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_migrated: set[str] = set()
_migrate_lock = threading.Lock()
# The drivers installed with the project; a PostgreSQL URL that names none gets psycopg (3).
_DRIVERS = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite", "postgresql": "postgresql+psycopg",
            "postgresql+psycopg": "postgresql+psycopg"}  # fmt: skip
_URL_FORMS = (
    "set STREAMLINES_DATABASE_URL to sqlite:///PATH or "
    "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE, or unset it to use SQLite in "
    "STREAMLINES_HOME"
)


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


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs (also when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(//[^/:@]*):[^/@]*@", r"\1:***@", url)


def database_url(url: str) -> URL:
    """``url`` parsed, on a backend and driver the project has (SQLite or PostgreSQL through
    psycopg); anything else is a UserError that says which URLs work."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"{safe_url(url)!r} is not a database URL", _URL_FORMS) from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise UserError(
            f"the metadata database {safe_url(url)} is neither SQLite nor PostgreSQL (through "
            "psycopg), the backends Stream Lines supports",
            _URL_FORMS,
        )
    return parsed.set(drivername=driver)


def make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            _make_folder(Path(url.database).parent)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create {folder} for the metadata database: {exc.strerror or exc}",
            f"make it writable, or {_URL_FORMS}",
        ) from None


@contextmanager
def _reporting_failures(url: str) -> Iterator[None]:
    """The database's errors as a UserError that names it (without its password)."""
    try:
        yield
    except DBAPIError as exc:
        raise _unusable(url, exc) from None


def _unusable(url: str, exc: DBAPIError) -> UserError:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if url.startswith("sqlite"):
        return UserError(
            f"the metadata database {url} cannot be opened: {detail}",
            "point STREAMLINES_DATABASE_URL at a SQLite file this user may read and write (a "
            "new one is created), or unset it to use SQLite in STREAMLINES_HOME",
        )
    if isinstance(exc, OperationalError):
        return UserError(
            f"the metadata database {safe_url(url)} did not answer: {detail}",
            "check STREAMLINES_DATABASE_URL (host, port, user, password) and start the server "
            "(`streamlines stack up postgres` for the local stack's PostgreSQL), or unset "
            "STREAMLINES_DATABASE_URL to use SQLite",
        )
    return UserError(f"the metadata database {safe_url(url)} cannot be used: {detail}",
                     _URL_FORMS)  # fmt: skip


# SQLite's SQLITE_FULL, the OS's ENOSPC, PostgreSQL's disk_full (SQLSTATE 53100).
_OUT_OF_SPACE = ("database or disk is full", "no space left on device", "could not extend file")


def _is_out_of_space(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "53100" or any(
        text in str(exc.orig).lower() for text in _OUT_OF_SPACE
    )


def _out_of_space(url: str, exc: DBAPIError) -> UserError:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    where = url.removeprefix("sqlite:///") if url.startswith("sqlite") else safe_url(url)
    return UserError(
        f"the metadata database {where} is out of space ({detail}); the write was rolled "
        "back and what was stored before is intact",
        "free space on its disk (or point STREAMLINES_DATABASE_URL at a database on a disk "
        "with room), then try again",
    )


class Database:
    """The metadata database. ``open_database`` is the way to get one (migrated)."""

    def __init__(self, url: str) -> None:
        parsed = database_url(url)
        self.url = parsed.render_as_string(hide_password=False)
        self.engine = make_engine(parsed)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back on error. A
        write the database has no room for (its disk is full) is rolled back whole and is a
        UserError that says so (see ``_out_of_space``)."""
        try:
            with self._sessions.begin() as session:
                yield session
        except DBAPIError as exc:
            if _is_out_of_space(exc):
                raise _out_of_space(self.url, exc) from None
            raise

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)

    def current_revision(self) -> str | None:
        """The schema's version (None: no schema yet); an unusable database is a UserError."""
        with _reporting_failures(self.url), self.engine.connect() as connection:
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
        with _reporting_failures(self.url), self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings) -> Database:
    """The settings' metadata database, migrated to the newest schema (once per URL and
    process). A bad URL or an unreachable or unusable database is a UserError that names it."""
    database = Database(settings.metadata_url)
    try:
        with _migrate_lock:
            if database.url not in _migrated:
                database.migrate()
                _migrated.add(database.url)
    except UserError:
        database.close()
        raise
    return database
