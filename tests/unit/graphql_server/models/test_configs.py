"""Saved training configs through GraphQL, on a real SQLite metadata database: checked before
they are saved, versioned per name, private to their owner (an admin sees and deletes all),
someone else's id answered as an unknown one; every operation needs a key."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types import ExecutionResult

from ml.config import parse_config
from streamlines.metadata.accounts import Principal
from tests.support.graphql import ALICE, BOB, ROOT, execute
from tests.unit.graphql_server.models.conftest import CONFIG, Metadata

FIELDS = "{ id owner name version config createdAt }"
SAVE = f"mutation($n: String!, $c: JSON!) {{ saveTrainingConfig(name: $n, config: $c) {FIELDS} }}"
LIST = f"query($n: String) {{ trainingConfigs(name: $n) {FIELDS} }}"
GET = f"query($id: Int!) {{ trainingConfig(id: $id) {FIELDS} }}"
DELETE = f"mutation($id: Int!) {{ deleteTrainingConfig(id: $id) {FIELDS} }}"


def run(metadata: Metadata, query: str, principal: Principal | None,
        **variables: Any) -> ExecutionResult:  # fmt: skip
    return execute(query, metadata.services(), principal=principal, **variables)


def data(metadata: Metadata, query: str, principal: Principal, **variables: Any) -> Any:
    """The answer's data; it must have no errors."""
    result = run(metadata, query, principal, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def save(metadata: Metadata, principal: Principal, name: str, config: Any = None) -> dict:
    config = CONFIG if config is None else config
    return data(metadata, SAVE, principal, n=name, c=config)["saveTrainingConfig"]


def ids(metadata: Metadata, principal: Principal, name: str | None = None) -> list[int]:
    return [c["id"] for c in data(metadata, LIST, principal, n=name)["trainingConfigs"]]


def test_each_save_under_a_name_adds_a_version_as_validated(metadata: Metadata) -> None:
    first = save(metadata, ALICE, "daily")
    second = save(metadata, ALICE, "daily", {**CONFIG, "hyperparameters": {"eta": 0.1}})
    other = save(metadata, ALICE, "weekly")
    assert [(c["name"], c["version"], c["owner"]) for c in (first, second, other)] == [
        ("daily", 1, "alice"),
        ("daily", 2, "alice"),
        ("weekly", 1, "alice"),
    ]
    assert first["config"] == parse_config(CONFIG).to_json()  # defaults filled in
    assert second["config"]["hyperparameters"]["eta"] == 0.1
    assert ids(metadata, ALICE, "daily") == [first["id"], second["id"]]
    assert ids(metadata, ALICE) == [first["id"], second["id"], other["id"]]
    assert data(metadata, GET, ALICE, id=second["id"])["trainingConfig"] == second


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({**CONFIG, "features": ["ret_1", "moon_phase"]}, "field `features`: unknown feature"),
        ({**CONFIG, "colour": "blue"}, "field `colour`: not a known field"),
        ("not json", "invalid training config"),
    ],
)
def test_a_bad_config_is_refused_naming_the_field_and_nothing_is_saved(
    metadata: Metadata, config: Any, field: str
) -> None:
    result = run(metadata, SAVE, ALICE, n="daily", c=config)
    assert result.errors
    assert field in result.errors[0].message
    assert ids(metadata, ROOT) == []


@pytest.mark.parametrize("name", ["", " daily", "a/b", "x" * 65, "-daily", "da ily"])
def test_a_bad_name_is_refused(metadata: Metadata, name: str) -> None:
    result = run(metadata, SAVE, ALICE, n=name, c=CONFIG)
    assert result.errors
    assert "is not allowed: use 1 to 64 letters" in result.errors[0].message
    assert ids(metadata, ROOT) == []


@pytest.mark.parametrize("name", ["x\x00y", "'; DROP TABLE training_configs; --", "d" * 500])
def test_listing_by_a_name_no_config_can_have_is_empty(metadata: Metadata, name: str) -> None:
    save(metadata, ALICE, "daily")
    assert ids(metadata, ALICE, name) == []


def test_a_user_sees_only_their_own_configs_and_an_admin_all(metadata: Metadata) -> None:
    alices = save(metadata, ALICE, "daily")
    bobs = save(metadata, BOB, "daily")
    assert ids(metadata, ALICE) == [alices["id"]]
    assert ids(metadata, BOB) == [bobs["id"]]
    assert ids(metadata, ROOT) == [alices["id"], bobs["id"]]
    assert ids(metadata, ROOT, "daily") == [alices["id"], bobs["id"]]
    assert data(metadata, GET, ROOT, id=alices["id"])["trainingConfig"] == alices


def test_someone_elses_config_is_answered_as_an_unknown_one(metadata: Metadata) -> None:
    alices = save(metadata, ALICE, "daily")
    missing = alices["id"] + 100
    for query, field in ((GET, "trainingConfig"), (DELETE, "deleteTrainingConfig")):
        theirs = run(metadata, query, BOB, id=alices["id"])
        unknown = run(metadata, query, BOB, id=missing)
        assert theirs.data == {field: None} == unknown.data
        assert theirs.errors
        assert unknown.errors
        assert theirs.errors[0].message.startswith(f"no training config {alices['id']} ")
        assert theirs.errors[0].message == unknown.errors[0].message.replace(
            str(missing), str(alices["id"])
        )
    assert ids(metadata, ALICE) == [alices["id"]]  # bob's delete changed nothing


def test_the_owner_or_an_admin_deletes_and_gets_what_was_deleted(metadata: Metadata) -> None:
    first, second = save(metadata, ALICE, "daily"), save(metadata, ALICE, "daily")
    assert data(metadata, DELETE, ALICE, id=first["id"])["deleteTrainingConfig"] == first
    assert ids(metadata, ALICE) == [second["id"]]
    assert data(metadata, DELETE, ROOT, id=second["id"])["deleteTrainingConfig"] == second
    assert ids(metadata, ROOT) == []


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (SAVE, {"n": "daily", "c": CONFIG}),
        (LIST, {}),
        (GET, {"id": 1}),
        (DELETE, {"id": 1}),
    ],
)
def test_without_a_key_nothing_is_read_or_changed(
    metadata: Metadata, query: str, variables: dict[str, Any]
) -> None:
    saved = save(metadata, ALICE, "daily")
    result = run(metadata, query, None, **variables)
    assert result.errors
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
    assert "this needs an API key" in result.errors[0].message
    assert ids(metadata, ROOT) == [saved["id"]]
