"""Users and their API keys: add users, create keys (shown once), revoke them, and find the
user behind a key.

A key is ``sl_<prefix>_<secret>``. The prefix (public, unique) finds the key's row; only the
SHA-256 of the secret is stored. A fast hash is enough here, unlike for passwords: the secret
is 32 random bytes, so there is nothing to guess from its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from streamlines.errors import UserError
from streamlines.metadata.database import Database
from streamlines.metadata.tables import ApiKey, User, now

KEY_PREFIX = "sl"
_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
# How stale a key's last_used_at may get: a write per request would be a write per query.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
_KEY = re.compile(rf"{KEY_PREFIX}_([a-z0-9]{{10}})_([A-Za-z0-9_-]{{43}})")


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the key's user."""

    user_id: int
    name: str
    is_admin: bool
    key_prefix: str

    def owns(self, owner_id: int | None) -> bool:
        """May read and change what ``owner_id`` owns: it is theirs, or they are an admin."""
        return self.is_admin or owner_id == self.user_id


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    is_admin: bool
    created_at: datetime
    active_keys: int


@dataclass(frozen=True)
class KeyRecord:
    prefix: str
    user: str
    label: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class NewKey:
    """A key just made: ``secret`` is the whole key, shown once and never stored."""

    record: KeyRecord
    secret: str


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key_record(key: ApiKey, user: str) -> KeyRecord:
    return KeyRecord(key.prefix, user, key.label, key.created_at, key.revoked_at,
                     key.last_used_at)  # fmt: skip


class Accounts:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add_user(self, name: str, admin: bool = False) -> UserRecord:
        if not _USER_NAME.fullmatch(name):
            raise UserError(
                f"user name {name!r} is not allowed",
                "use 1 to 64 letters, digits and . _ @ -, starting with a letter or digit",
            )
        try:
            with self.database.session() as session:
                user = User(name=name, is_admin=admin)
                session.add(user)
                session.flush()
                return UserRecord(user.id, user.name, user.is_admin, user.created_at, 0)
        except IntegrityError:
            raise UserError(
                f"user {name!r} exists already", "pick another name, or create a key for it"
            ) from None

    def users(self) -> list[UserRecord]:
        with self.database.session() as session:
            users = session.scalars(select(User).order_by(User.id)).all()
            keys = session.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None))).all()
            active: dict[int, int] = {}
            for key in keys:
                active[key.user_id] = active.get(key.user_id, 0) + 1
            return [UserRecord(u.id, u.name, u.is_admin, u.created_at, active.get(u.id, 0))
                    for u in users]  # fmt: skip

    def _user(self, session: Session, name: str) -> User:
        user = session.scalars(select(User).where(User.name == name)).one_or_none()
        if user is None:
            raise UserError(f"no user named {name!r}", "add it with `streamlines users add NAME`")
        return user

    def create_key(self, user_name: str, label: str = "") -> NewKey:
        with self.database.session() as session:
            user = self._user(session, user_name)
            prefix = secrets.token_hex(5)
            secret = secrets.token_urlsafe(32)
            key = ApiKey(user_id=user.id, prefix=prefix, secret_sha256=_sha256(secret),
                         label=label[:200])  # fmt: skip
            session.add(key)
            session.flush()
            return NewKey(_key_record(key, user.name), f"{KEY_PREFIX}_{prefix}_{secret}")

    def revoke_key(self, prefix: str) -> KeyRecord:
        """Revoke the key with this prefix (the part after ``sl_``; a whole key works too)."""
        match = _KEY.fullmatch(prefix)
        wanted = match.group(1) if match else prefix.removeprefix(f"{KEY_PREFIX}_")
        with self.database.session() as session:
            row = session.execute(
                select(ApiKey, User.name).join(User).where(ApiKey.prefix == wanted)
            ).one_or_none()
            if row is None:
                raise UserError(f"no key with prefix {wanted!r}",
                                "`streamlines keys list` shows the keys' prefixes")  # fmt: skip
            key, user = row
            if key.revoked_at is None:
                key.revoked_at = now()
            return _key_record(key, user)

    def keys(self, user_name: str | None = None) -> list[KeyRecord]:
        with self.database.session() as session:
            query = select(ApiKey, User.name).join(User).order_by(ApiKey.id)
            if user_name is not None:
                query = query.where(User.id == self._user(session, user_name).id)
            return [_key_record(key, user) for key, user in session.execute(query).all()]

    def authenticate(self, token: str) -> Principal | None:
        """The user of a valid, unrevoked key; None for anything else (malformed, unknown,
        revoked, wrong secret). Looked up on every request, so a revocation takes effect at
        once."""
        match = _KEY.fullmatch(token.strip())
        if match is None:
            return None
        prefix, secret = match.groups()
        with self.database.session() as session:
            row = session.execute(
                select(ApiKey, User).join(User).where(ApiKey.prefix == prefix)
            ).one_or_none()
            if row is None:
                return None
            key, user = row
            if key.revoked_at is not None:
                return None
            if not hmac.compare_digest(key.secret_sha256, _sha256(secret)):
                return None
            moment = now()
            if key.last_used_at is None or moment - key.last_used_at > _LAST_USED_RESOLUTION:
                key.last_used_at = moment
            return Principal(user.id, user.name, user.is_admin, key.prefix)
