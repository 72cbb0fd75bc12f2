"""Users and API keys on SQLite and PostgreSQL: names are checked, a key's secret is kept only as
its SHA-256, a revoked, unknown, wrong or malformed key authenticates no one."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from streamlines.errors import UserError
from streamlines.metadata.accounts import Accounts
from streamlines.metadata.database import Database, open_database
from streamlines.metadata.tables import ApiKey, now
from streamlines.settings import Settings


def _parts(secret: str) -> tuple[str, str]:
    """The prefix and the secret part of a whole key ``sl_<prefix>_<secret>``."""
    marker, prefix, rest = secret.split("_", 2)
    assert marker == "sl"
    return prefix, rest


BAD_NAMES = ["", " alice", "alice ", "-alice", ".alice", "a b", "alice;drop", "élise", "x" * 65]


def test_a_bad_user_name_is_refused_with_the_rule(accounts):
    for name in BAD_NAMES:
        with pytest.raises(UserError, match="is not allowed") as caught:
            accounts.add_user(name)
        assert "letters, digits" in str(caught.value.hint), name
    assert accounts.users() == []


def test_a_user_name_of_64_allowed_characters_is_accepted(accounts):
    name = "a1._@-" + "z" * 58
    assert accounts.add_user(name).name == name


def test_a_duplicate_user_is_refused_and_the_first_is_unchanged(accounts):
    first = accounts.add_user("alice", admin=True)
    with pytest.raises(UserError, match="'alice' exists already"):
        accounts.add_user("alice")
    assert [(u.id, u.name, u.is_admin) for u in accounts.users()] == [(first.id, "alice", True)]


def test_users_lists_every_user_with_its_active_keys(accounts):
    accounts.add_user("alice")
    accounts.add_user("root", admin=True)
    accounts.create_key("alice")
    revoked = accounts.create_key("alice")
    accounts.revoke_key(revoked.record.prefix)
    users = {u.name: u for u in accounts.users()}
    assert (users["alice"].is_admin, users["alice"].active_keys) == (False, 1)
    assert (users["root"].is_admin, users["root"].active_keys) == (True, 0)
    assert users["alice"].created_at.tzinfo is not None


def test_a_key_for_an_unknown_user_is_refused(accounts):
    with pytest.raises(UserError, match="no user named 'nobody'"):
        accounts.create_key("nobody")


def test_only_the_prefix_and_the_secrets_sha256_are_stored(accounts, database: Database):
    accounts.add_user("alice")
    new = accounts.create_key("alice", "laptop")
    prefix, secret = _parts(new.secret)
    assert new.record.prefix == prefix
    assert len(secret) >= 40  # 32 random bytes

    with database.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM api_keys")).mappings().one()
    assert row["prefix"] == prefix
    assert row["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    stored = " ".join(str(value) for value in row.values())
    pieces = {secret[i : i + 8] for i in range(len(secret) - 7)}
    assert not [piece for piece in pieces if piece in stored]


def test_a_valid_key_authenticates_its_user(accounts):
    accounts.add_user("alice")
    root = accounts.add_user("root", admin=True)
    new = accounts.create_key("root")
    principal = accounts.authenticate(new.secret)
    assert principal is not None
    assert (principal.user_id, principal.name, principal.is_admin) == (root.id, "root", True)
    assert principal.key_prefix == new.record.prefix
    assert accounts.authenticate(f"  {new.secret}\n") == principal


def test_a_wrong_secret_or_an_unknown_prefix_authenticates_no_one(accounts):
    accounts.add_user("alice")
    prefix, secret = _parts(accounts.create_key("alice").secret)
    other = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert accounts.authenticate(f"sl_{prefix}_{other}") is None
    assert accounts.authenticate(f"sl_0000000000_{secret}") is None
    _, second_secret = _parts(accounts.create_key("alice").secret)
    assert accounts.authenticate(f"sl_{prefix}_{second_secret}") is None  # mixed keys


# Formats of what is not a key (filled in with a real key's parts).
MALFORMED = [
    "", "sl_", "garbage", "Bearer {key}", "{key}x", "xx{after_sl}", "SL{after_sl}", "{prefix}",
    "sl_{prefix}", "sl_{prefix}_", "sl_{prefix}_{secret_start}", "sl_{prefix}_{secret}' OR '1'='1",
    "sl_{prefix}_%", "sl_{prefix}_*", "sl_{prefix}_{secret}\x00",
]  # fmt: skip


def test_a_malformed_key_authenticates_no_one(accounts):
    accounts.add_user("alice")
    key = accounts.create_key("alice").secret
    prefix, secret = _parts(key)
    for form in MALFORMED:
        wrong = form.format(
            key=key, after_sl=key[2:], prefix=prefix, secret=secret, secret_start=secret[:10]
        )
        assert accounts.authenticate(wrong) is None, form
    assert accounts.authenticate(key) is not None


def test_a_revoked_key_fails_at_once_even_for_another_connection(accounts, metadata_url):
    accounts.add_user("alice")
    kept = accounts.create_key("alice")
    revoked = accounts.create_key("alice")
    assert accounts.authenticate(revoked.secret) is not None

    elsewhere = Accounts(open_database(Settings(database_url=metadata_url)))  # as the CLI would
    record = elsewhere.revoke_key(revoked.record.prefix)
    elsewhere.database.close()

    assert record.revoked_at is not None
    assert accounts.authenticate(revoked.secret) is None
    assert accounts.authenticate(kept.secret) is not None


def test_revoke_takes_the_prefix_the_prefix_with_sl_or_the_whole_key(accounts):
    accounts.add_user("alice")
    by_prefix, by_marked_prefix, by_key = (accounts.create_key("alice") for _ in range(3))
    accounts.revoke_key(by_prefix.record.prefix)
    accounts.revoke_key(f"sl_{by_marked_prefix.record.prefix}")
    accounts.revoke_key(by_key.secret)
    for new in (by_prefix, by_marked_prefix, by_key):
        assert accounts.authenticate(new.secret) is None
    assert all(key.revoked_at is not None for key in accounts.keys("alice"))


def test_revoking_twice_keeps_the_first_revocation_time(accounts):
    accounts.add_user("alice")
    prefix = accounts.create_key("alice").record.prefix
    first = accounts.revoke_key(prefix)
    again = accounts.revoke_key(prefix)
    assert first.revoked_at is not None
    assert again.revoked_at == first.revoked_at


def test_revoking_an_unknown_prefix_is_refused_with_where_to_look(accounts):
    accounts.add_user("alice")
    accounts.create_key("alice")
    with pytest.raises(UserError, match="no key with prefix 'ffffffffff'") as caught:
        accounts.revoke_key("ffffffffff")
    assert "keys list" in str(caught.value.hint)


def test_keys_lists_one_users_keys_or_everyones_by_prefix_only(accounts):
    accounts.add_user("alice")
    accounts.add_user("bob")
    alice = [accounts.create_key("alice", label) for label in ("laptop", "ci")]
    bob = accounts.create_key("bob", "phone")
    accounts.revoke_key(alice[1].record.prefix)

    listed = accounts.keys("alice")
    assert [(k.prefix, k.user, k.label) for k in listed] == [
        (alice[0].record.prefix, "alice", "laptop"),
        (alice[1].record.prefix, "alice", "ci"),
    ]
    assert [k.revoked_at is None for k in listed] == [True, False]
    assert [k.prefix for k in accounts.keys(user_name=None)] == [
        alice[0].record.prefix, alice[1].record.prefix, bob.record.prefix
    ]  # fmt: skip
    assert accounts.keys("bob")[0].label == "phone"
    with pytest.raises(UserError, match="no user named 'carol'"):
        accounts.keys("carol")


def test_last_used_is_written_at_most_once_a_minute(accounts, database: Database):
    accounts.add_user("alice")
    new = accounts.create_key("alice")
    assert accounts.keys("alice")[0].last_used_at is None

    accounts.authenticate(new.secret)
    first = accounts.keys("alice")[0].last_used_at
    assert first is not None
    assert abs(now() - first) < timedelta(seconds=30)
    accounts.authenticate(new.secret)
    assert accounts.keys("alice")[0].last_used_at == first

    earlier = now() - timedelta(minutes=2)
    with database.session() as session:
        session.execute(update(ApiKey).values(last_used_at=earlier))
    accounts.authenticate(new.secret)
    latest = accounts.keys("alice")[0].last_used_at
    assert latest is not None
    assert latest > earlier + timedelta(minutes=1)


def test_a_failed_authentication_does_not_touch_last_used(accounts):
    accounts.add_user("alice")
    prefix, _ = _parts(accounts.create_key("alice").secret)
    accounts.authenticate(f"sl_{prefix}_{'A' * 43}")
    assert accounts.keys("alice")[0].last_used_at is None
