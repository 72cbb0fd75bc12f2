"""`streamlines users` and `streamlines keys`: accounts and API keys of the GraphQL server, and
`streamlines db`: the metadata database's schema (argument parsing only; the work is
``streamlines.metadata.accounts`` and ``.database``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from streamlines.console import make_console
from streamlines.settings import Settings

if TYPE_CHECKING:
    from streamlines.metadata.accounts import Accounts
    from streamlines.metadata.database import Database

users_app = typer.Typer(help="Users of the GraphQL server.", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys: create (shown once), revoke (at once), list.", no_args_is_help=True
)
db_app = typer.Typer(help="The metadata database (SQLite or PostgreSQL).", no_args_is_help=True)


def _database(migrate: bool = True) -> Database:
    # Imported when a command runs: SQLAlchemy and Alembic take ~0.3 s to import, which every
    # other `streamlines` command would pay at start.
    from streamlines.metadata.database import Database, open_database

    settings = Settings()
    return open_database(settings) if migrate else Database(settings.metadata_url)


def _accounts() -> Accounts:
    from streamlines.metadata.accounts import Accounts

    return Accounts(_database())


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}Z"


@users_app.command("add")
def add_user(
    name: Annotated[str, typer.Argument(help="Letters, digits and . _ @ - (up to 64).")],
    admin: Annotated[bool, typer.Option("--admin", help="May read and change everything.")] = False,
) -> None:
    """Add a user (then give it a key: `streamlines keys create NAME`)."""
    user = _accounts().add_user(name, admin)
    role = "administrator" if user.is_admin else "user"
    make_console().print(f"added {role} {user.name} (id {user.id})")


@users_app.command("list")
def list_users() -> None:
    """The users, with their number of active keys."""
    table = Table("id", "name", "admin", "active keys", "created")
    for user in _accounts().users():
        table.add_row(str(user.id), user.name, "yes" if user.is_admin else "",
                      str(user.active_keys), _when(user.created_at))  # fmt: skip
    make_console().print(table)


@keys_app.command("create")
def create_key(
    user: Annotated[str, typer.Argument(help="The user the key acts as.")],
    label: Annotated[str, typer.Option(help="What the key is for (shown in `keys list`).")] = "",
) -> None:
    """Create an API key and print it: it is shown this once (only its hash is kept)."""
    new = _accounts().create_key(user, label)
    # The key alone on stdout, so that `KEY=$(streamlines keys create NAME)` holds just it.
    make_console().print(new.secret, soft_wrap=True, highlight=False)
    make_console(stderr=True).print(
        f"[dim]key {new.record.prefix} for {new.record.user}: store it now, it is not shown "
        "again. Send it as `Authorization: Bearer <key>`.[/dim]",
        highlight=False,
    )


@keys_app.command("revoke")
def revoke_key(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (`keys list`) or the key.")],
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    key = _accounts().revoke_key(prefix)
    make_console().print(f"revoked key {key.prefix} of {key.user} at {_when(key.revoked_at)}")


@keys_app.command("list")
def list_keys(
    user: Annotated[str | None, typer.Option(help="Only this user's keys.")] = None,
) -> None:
    """The keys (prefixes only; the secrets are not kept), with their state."""
    table = Table("prefix", "user", "label", "created", "last used", "state")
    for key in _accounts().keys(user):
        state = "active" if key.revoked_at is None else f"revoked {_when(key.revoked_at)}"
        table.add_row(key.prefix, key.user, key.label, _when(key.created_at),
                      _when(key.last_used_at), state)  # fmt: skip
    make_console().print(table)


@db_app.command("upgrade")
def upgrade() -> None:
    """Migrate the metadata database to the newest schema (done on first use anyway)."""
    database = _database()
    make_console().print(f"{database.safe_url} is at schema version {database.current_revision()}")


@db_app.command("status")
def status() -> None:
    """The metadata database's URL and its schema version against the newest."""
    database = _database(migrate=False)
    current, head = database.current_revision(), database.head_revision()
    note = "up to date" if current == head else "`streamlines db upgrade` migrates it"
    make_console().print(f"{database.safe_url}: schema {current or 'none'}, newest {head} "
                         f"({note})")  # fmt: skip
