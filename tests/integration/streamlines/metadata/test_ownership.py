"""Who owns which model and backtest, on SQLite and PostgreSQL: a model with no owner row is
shared (readable by everyone, deletable by admins only); an owned one is its owner's and the
admins'; forgetting a model forgets its backtests."""

from __future__ import annotations

import pytest

from streamlines.metadata.ownership import Ownership


@pytest.fixture
def ownership(database) -> Ownership:
    return Ownership(database)


def test_a_shared_model_is_readable_by_all_and_deletable_only_by_an_admin(ownership, people):
    assert ownership.model_owner("trained-outside") is None
    for reader in (None, people.alice, people.bob, people.root):
        assert ownership.can_read_model(reader, "trained-outside")
    assert not ownership.can_delete_model(people.alice, "trained-outside")
    assert not ownership.can_delete_model(people.bob, "trained-outside")
    assert ownership.can_delete_model(people.root, "trained-outside")


def test_an_owned_model_is_its_owners_and_the_admins_only(ownership, people):
    ownership.record_model("m-alice", people.alice.user_id)
    assert ownership.model_owner("m-alice") == people.alice.user_id
    assert ownership.can_read_model(people.alice, "m-alice")
    assert ownership.can_read_model(people.root, "m-alice")
    assert not ownership.can_read_model(people.bob, "m-alice")
    assert not ownership.can_read_model(None, "m-alice")
    assert ownership.can_delete_model(people.alice, "m-alice")
    assert ownership.can_delete_model(people.root, "m-alice")
    assert not ownership.can_delete_model(people.bob, "m-alice")


def test_recording_a_model_again_replaces_its_owner(ownership, people):
    ownership.record_model("m", people.alice.user_id, config_id=3)
    ownership.record_model("m", people.bob.user_id)
    assert ownership.model_owners() == {"m": people.bob.user_id}


def test_model_owners_lists_every_owned_model(ownership, people):
    ownership.record_model("m-alice", people.alice.user_id)
    ownership.record_model("m-bob", people.bob.user_id)
    assert ownership.model_owners() == {"m-alice": people.alice.user_id,
                                        "m-bob": people.bob.user_id}  # fmt: skip


def test_an_owned_backtest_is_its_owners_and_the_admins_only(ownership, people):
    ownership.record_model("m-alice", people.alice.user_id)
    ownership.record_backtest("b-alice", "m-alice", people.alice.user_id)
    assert ownership.backtest_owner("b-alice") == people.alice.user_id
    assert ownership.can_read_backtest(people.alice, "b-alice")
    assert ownership.can_read_backtest(people.root, "b-alice")
    assert not ownership.can_read_backtest(people.bob, "b-alice")
    assert not ownership.can_read_backtest(None, "b-alice")
    assert ownership.can_read_backtest(people.bob, "b-shared")  # no row: shared


def test_forgetting_a_model_forgets_its_backtests_and_no_others(ownership, people):
    ownership.record_model("m1", people.alice.user_id)
    ownership.record_model("m2", people.alice.user_id)
    ownership.record_backtest("b1", "m1", people.alice.user_id)
    ownership.record_backtest("b1-bob", "m1", people.bob.user_id)
    ownership.record_backtest("b2", "m2", people.alice.user_id)

    ownership.forget_model("m1")

    assert ownership.model_owners() == {"m2": people.alice.user_id}
    assert ownership.backtest_owner("b1") is None
    assert ownership.backtest_owner("b1-bob") is None
    assert ownership.backtest_owner("b2") == people.alice.user_id
    ownership.forget_model("never-recorded")  # nothing to forget is not an error
