"""No default secret on a non-loopback address, whatever the profile."""

from __future__ import annotations

import os

import pytest

from graphql_server import app
from graphql_server.exposure import check_secrets_for, is_loopback
from streamlines.errors import UserError
from streamlines.settings import Settings


def own_secrets(**changes: object) -> Settings:
    """Settings with secrets of one's own (and these changes)."""
    return Settings(influx_password="p1", influx_token="t1", postgres_password="p2").model_copy(
        update=changes
    )


@pytest.fixture(autouse=True)
def built_in_defaults(monkeypatch, tmp_path):
    """The built-in defaults: no STREAMLINES_* from the caller, no .env from the repo."""
    for name in [n for n in os.environ if n.startswith("STREAMLINES_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "example.org", ""])
def test_other_addresses(host):
    assert not is_loopback(host)


def test_default_secrets_are_fine_on_loopback_and_refused_beyond_it():
    check_secrets_for(Settings(host="127.0.0.1"))
    with pytest.raises(UserError) as refused:
        check_secrets_for(Settings(host="0.0.0.0", influx_password="p1", postgres_password="p2"))
    assert "would listen on 0.0.0.0" in str(refused.value)
    assert "STREAMLINES_INFLUX_TOKEN is still the local stack's built-in default" in str(
        refused.value
    )
    assert "127.0.0.1" in (refused.value.hint or "")
    check_secrets_for(own_secrets(host="0.0.0.0"))


def test_a_database_url_with_the_stacks_password_counts_as_a_default_secret():
    url = "postgresql+psycopg://streamlines:streamlines-local@db.internal:5432/streamlines"
    with pytest.raises(UserError, match="STREAMLINES_DATABASE_URL's password"):
        check_secrets_for(own_secrets(host="10.0.0.5", database_url=url))


def test_serve_refuses_before_it_binds_or_opens_anything(monkeypatch):
    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("called before the secrets were checked")

    monkeypatch.setattr(app, "ensure_port_free", must_not_run)
    monkeypatch.setattr(app, "create_app", must_not_run)
    monkeypatch.setattr(app.uvicorn, "run", must_not_run)
    with pytest.raises(UserError, match="beyond this machine"):
        app.serve(Settings(host="0.0.0.0"), "warning")
