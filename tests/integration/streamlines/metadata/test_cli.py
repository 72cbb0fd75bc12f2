"""`streamlines users`, `keys` and `db` run as the user runs them (child processes), on SQLite
and PostgreSQL: a key printed by `keys create` authenticates until `keys revoke`; mistakes exit
1 with `error:` and `fix:` and no traceback; every command has --help."""

from __future__ import annotations

import subprocess

import pytest

from streamlines.metadata.accounts import Accounts
from streamlines.metadata.database import open_database, safe_url
from streamlines.settings import Settings
from tests.support.processes import run_cli

COMMANDS = [
    ("users",), ("users", "add"), ("users", "list"),
    ("keys",), ("keys", "create"), ("keys", "list"), ("keys", "revoke"),
    ("db",), ("db", "status"), ("db", "upgrade"),
]  # fmt: skip


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={"STREAMLINES_DATABASE_URL": url}, timeout=60)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert "\n  fix: " in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _table_rows(output: str) -> dict[str, list[str]]:
    """The body rows of a table printed by rich, by their second cell (the name)."""
    rows = [line.split("│")[1:-1] for line in output.splitlines() if line.startswith("│")]
    return {cells[1].strip(): [cell.strip() for cell in cells] for cells in rows}


def _authenticate(url: str, key: str) -> str | None:
    database = open_database(Settings(database_url=url))
    try:
        principal = Accounts(database).authenticate(key)
        return None if principal is None else principal.name
    finally:
        database.close()


def test_a_created_key_authenticates_until_it_is_revoked(metadata_url):
    assert "added user alice" in _ok(_cli(metadata_url, "users", "add", "alice"))

    created = _cli(metadata_url, "keys", "create", "alice", "--label", "laptop")
    key = _ok(created).strip()  # the key alone on stdout; the note on stderr
    assert key.startswith("sl_")
    assert "not shown again" in created.stderr
    assert _authenticate(metadata_url, key) == "alice"
    prefix = key.split("_")[1]
    other = _ok(_cli(metadata_url, "keys", "create", "alice")).strip()

    listed = _ok(_cli(metadata_url, "keys", "list", "--user", "alice"))
    assert prefix in listed
    assert "laptop" in listed
    assert "active" in listed
    assert key.split("_", 2)[2] not in listed  # the secret is not kept, so not shown

    revoked = _ok(_cli(metadata_url, "keys", "revoke", prefix))
    assert f"revoked key {prefix} of alice" in revoked
    assert _authenticate(metadata_url, key) is None
    assert _authenticate(metadata_url, other) == "alice"
    _ok(_cli(metadata_url, "keys", "revoke", other))  # the whole key works too
    assert _authenticate(metadata_url, other) is None
    assert "active" not in _ok(_cli(metadata_url, "keys", "list"))


def test_users_list_shows_admins_and_active_keys(metadata_url):
    assert "added administrator root" in _ok(_cli(metadata_url, "users", "add", "root",
                                                  "--admin"))  # fmt: skip
    _ok(_cli(metadata_url, "users", "add", "alice"))
    _ok(_cli(metadata_url, "keys", "create", "root"))
    rows = _table_rows(_ok(_cli(metadata_url, "users", "list")))
    assert {name: cells[2:4] for name, cells in rows.items()} == {
        "root": ["yes", "1"], "alice": ["", "0"]
    }  # fmt: skip


def test_mistakes_exit_1_with_the_error_and_the_fix(metadata_url):
    _ok(_cli(metadata_url, "users", "add", "alice"))
    _refused(_cli(metadata_url, "users", "add", "alice"), "user 'alice' exists already")
    _refused(_cli(metadata_url, "users", "add", "bad name"), "user name 'bad name' is not allowed")
    _refused(_cli(metadata_url, "keys", "create", "nobody"), "no user named 'nobody'")
    _refused(_cli(metadata_url, "keys", "revoke", "ffffffffff"), "no key with prefix 'ffffffffff'")


def test_db_status_and_upgrade(metadata_url):
    shown = safe_url(metadata_url)
    fresh = _ok(_cli(metadata_url, "db", "status"))
    assert f"{shown}: schema none, newest" in fresh
    assert "`streamlines db upgrade` migrates it" in fresh

    upgraded = _ok(_cli(metadata_url, "db", "upgrade"))
    head = fresh.split("newest ")[1].split()[0]
    assert f"{shown} is at schema version {head}" in upgraded

    assert f"schema {head}, newest {head} (up to date)" in _ok(_cli(metadata_url, "db", "status"))


def test_no_command_prints_the_password_of_the_database_url(stack, settings):
    password = settings.postgres_password.get_secret_value()
    for args in (("db", "upgrade"), ("db", "status"), ("users", "list")):
        result = _ok(_cli(settings.postgres_url, *args))
        assert password not in result


@pytest.mark.parametrize("args", [("db", "status"), ("users", "list")])
def test_an_unreachable_database_is_an_error_with_the_fix(args):
    result = _cli("postgresql+psycopg://someone:pa55-w0rd@127.0.0.1:1/metadata", *args)
    _refused(result, "the metadata database postgresql+psycopg://someone:***@127.0.0.1:1/")
    assert "pa55-w0rd" not in result.stderr
    assert "streamlines stack up postgres" in result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command):
    result = run_cli(*command, "--help", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert f"{' '.join(command)} [OPTIONS]" in result.stdout
