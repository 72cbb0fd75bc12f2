"""Training configs on SQLite and PostgreSQL: versions per (owner, name), each user sees only
their own (an admin sees all), and someone else's config answers as a missing one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from streamlines.errors import UserError
from streamlines.metadata.configs import TrainingConfigs
from streamlines.metadata.database import open_database
from streamlines.settings import Settings

DOCUMENT = {"symbols": ["AAPL", "MSFT"], "horizon": 5, "params": {"max_depth": 4, "eta": 0.1}}


@pytest.fixture
def configs(database) -> TrainingConfigs:
    return TrainingConfigs(database)


def test_each_save_under_a_name_is_the_next_version_of_that_owners_config(configs, people):
    alice, bob = people.alice, people.bob
    first = configs.save(alice, "daily", DOCUMENT)
    second = configs.save(alice, "daily", {**DOCUMENT, "horizon": 10})
    other_name = configs.save(alice, "hourly", DOCUMENT)
    other_owner = configs.save(bob, "daily", DOCUMENT)
    assert [c.version for c in (first, second, other_name, other_owner)] == [1, 2, 1, 1]
    assert len({c.id for c in (first, second, other_name, other_owner)}) == 4
    assert (second.owner, second.name, second.document["horizon"]) == ("alice", "daily", 10)
    assert second.created_at.tzinfo is not None


def test_a_version_number_is_not_reused_after_a_delete_of_an_older_one(configs, people):
    alice = people.alice
    first = configs.save(alice, "daily", DOCUMENT)
    configs.save(alice, "daily", DOCUMENT)
    configs.delete(alice, first.id)
    assert configs.save(alice, "daily", DOCUMENT).version == 3


def test_the_document_comes_back_as_saved(configs, people):
    alice = people.alice
    saved = configs.save(alice, "daily", DOCUMENT)
    assert configs.get(alice, saved.id).document == DOCUMENT


def test_a_user_lists_their_own_configs_and_an_admin_lists_all(configs, people):
    alice, bob, root = people.alice, people.bob, people.root
    a1 = configs.save(alice, "daily", DOCUMENT)
    b1 = configs.save(bob, "daily", DOCUMENT)
    a2 = configs.save(alice, "hourly", DOCUMENT)
    assert [c.id for c in configs.list(alice)] == [a1.id, a2.id]
    assert [c.id for c in configs.list(bob)] == [b1.id]
    assert [(c.id, c.owner) for c in configs.list(root)] == [
        (a1.id, "alice"), (b1.id, "bob"), (a2.id, "alice")
    ]  # fmt: skip
    assert [c.id for c in configs.list(alice, "hourly")] == [a2.id]
    assert [c.id for c in configs.list(root, "daily")] == [a1.id, b1.id]
    assert configs.list(bob, "hourly") == []


def test_someone_elses_config_is_answered_as_a_missing_one(configs, people):
    alice, bob = people.alice, people.bob
    theirs = configs.save(bob, "daily", DOCUMENT)
    missing = theirs.id + 1000
    for call in (configs.get, configs.delete):
        with pytest.raises(UserError) as other:
            call(alice, theirs.id)
        with pytest.raises(UserError) as absent:
            call(alice, missing)
        assert str(other.value) == str(absent.value).replace(str(missing), str(theirs.id))
        assert str(other.value).startswith(f"no training config {theirs.id}\n")
    assert configs.get(bob, theirs.id).id == theirs.id  # nothing was deleted


def test_an_owner_and_an_admin_may_read_and_delete(configs, people):
    alice, root = people.alice, people.root
    mine = configs.save(alice, "daily", DOCUMENT)
    other = configs.save(alice, "hourly", DOCUMENT)
    assert configs.get(root, mine.id).owner == "alice"
    assert configs.delete(alice, mine.id).id == mine.id
    assert configs.delete(root, other.id).id == other.id
    assert configs.list(root) == []
    with pytest.raises(UserError, match=f"no training config {mine.id}"):
        configs.get(alice, mine.id)


def test_saves_at_once_from_two_servers_each_get_their_own_version(configs, people, metadata_url):
    other_server = TrainingConfigs(open_database(Settings(database_url=metadata_url)))
    stores = [configs, other_server] * 4
    start = threading.Barrier(len(stores))

    def save(store: TrainingConfigs) -> int:
        start.wait()
        return store.save(people.alice, "daily", DOCUMENT).version

    with ThreadPoolExecutor(len(stores)) as pool:
        versions = list(pool.map(save, stores))
    other_server.database.close()
    assert sorted(versions) == list(range(1, len(stores) + 1))
