"""The stack's PostgreSQL: healthy at the configured URL (its password never shown), the
database exists, a table can be created, written, read and dropped over psycopg with the
settings' URL; set-up creates a missing database once; a restart keeps the data (fast
shutdown); and as root the server runs as the postgres system user."""

from __future__ import annotations

import io
import os
import pwd
from pathlib import Path

import psycopg
from psycopg import sql
from rich.console import Console

from streamlines.settings import Settings
from streamlines.stack.manager import Stack
from streamlines.stack.services.postgres import PostgresService


def _connect(settings: Settings) -> psycopg.Connection:
    # The settings' SQLAlchemy URL, less its driver name, is a libpq URL.
    return psycopg.connect(settings.postgres_url.replace("+psycopg", "", 1), autocommit=True)


def test_healthy_at_its_url_without_showing_the_password(stack: Stack, settings: Settings):
    [status] = stack.status(["postgres"])
    assert status.state == "healthy", status
    url = f"postgresql://{settings.host}:{settings.postgres_port}/{settings.postgres_db}"
    assert status.detail.startswith(f"{url}, PostgreSQL ")
    assert "not created" not in status.detail
    assert settings.postgres_password.get_secret_value() not in status.detail


def test_a_table_can_be_created_written_read_and_dropped(
    stack: Stack, settings: Settings, unique_name: str
):
    table = sql.Identifier(unique_name)
    with _connect(settings) as conn:
        assert conn.execute("select current_database()").fetchone() == (settings.postgres_db,)
        conn.execute(sql.SQL("create table {} (id int primary key, name text)").format(table))
        try:
            conn.execute(sql.SQL("insert into {} values (1, 'ripple')").format(table))
            assert conn.execute(sql.SQL("select name from {}").format(table)).fetchall() == [
                ("ripple",)
            ]
        finally:
            conn.execute(sql.SQL("drop table {}").format(table))
        assert conn.execute("select to_regclass(%s)", (f'"{unique_name}"',)).fetchone() == (None,)


def test_set_up_creates_a_missing_database_once(stack: Stack, settings: Settings, unique_name):
    ours = settings.model_copy(update={"postgres_db": unique_name})
    service = PostgresService(ours)
    first, second = (Console(record=True, file=io.StringIO(), width=200) for _ in range(2))
    try:
        service.after_start(first)
        service.after_start(second)
        assert f"database '{unique_name}' created" in first.export_text()
        assert second.export_text() == ""
        with _connect(ours) as conn:
            assert conn.execute("select current_database()").fetchone() == (unique_name,)
        assert service.health().ok
    finally:
        with service.connect("postgres") as conn:
            conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(unique_name)))


def test_a_restart_keeps_the_data_and_shuts_down_fast(
    stack: Stack, settings: Settings, unique_name: str
):
    table = sql.Identifier(unique_name)
    with _connect(settings) as conn:
        conn.execute(sql.SQL("create table {} as select 42 as answer").format(table))
    try:
        assert stack.down(["postgres"]) == ["postgres"]
        log = stack.services["postgres"].process().log_tail(15)
        assert "received fast shutdown request" in log
        assert "database system is shut down" in log
        [status] = stack.up(["postgres"])
        assert status.state == "healthy", status
        with _connect(settings) as conn:
            assert conn.execute(sql.SQL("select answer from {}").format(table)).fetchone() == (42,)
    finally:
        stack.up(["postgres"])
        with _connect(settings) as conn:
            conn.execute(sql.SQL("drop table if exists {}").format(table))


def test_as_root_the_server_runs_as_the_postgres_user(stack: Stack):
    pid = stack.services["postgres"].process().pid()
    assert pid is not None
    expected = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
    assert Path(f"/proc/{pid}").stat().st_uid == expected
