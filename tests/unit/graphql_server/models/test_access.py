"""Who may see and use which model, backtest and saved config, through GraphQL in-process: a
real model store (a copy per test), a real SQLite metadata database, fakes for the work.

Alice owns the model and its backtest; bob is another user, root an administrator. Someone
else's private model, backtest or config is answered exactly as an unknown id; without a key
nothing is read or changed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from graphql_server.jobs.registry import JobRegistry, JobSnapshot, JobState
from graphql_server.models.catalog import ModelCatalog
from graphql_server.models.store import PredictionStore
from streamlines.metadata.accounts import Principal
from tests.support.graphql import ALICE, BOB, ROOT, execute
from tests.unit.graphql_server.models.conftest import CONFIG, Metadata, Stored
from tests.unit.graphql_server.models.fakes import FakeCatalog
from tests.unit.graphql_server.models.test_queries import FakePredictions

UNKNOWN = "goog-gql-20200101T000000-abcdef"
UNKNOWN_BACKTEST = "bt-20200101T000000-abcdef"
RANGE = 'start: "2011-01-03", end: "2013-01-01"'

# Each operation on a model (MODEL: its id), and the field that answers.
MODEL_READS = {
    "model": '{ model(id: "MODEL") { id } }',
    "exportModel": '{ exportModel(id: "MODEL") { sha256 } }',
    "predictions": f'{{ predictions(symbol: "GOOG", {RANGE}, modelId: "MODEL") {{ tNs }} }}',
}
MODEL_MUTATIONS = {
    "predict": f'mutation {{ predict(modelId: "MODEL", symbols: ["GOOG"], {RANGE}) {{ id }} }}',
    "backtest": f'mutation {{ backtest(modelId: "MODEL", {RANGE}) {{ id }} }}',
    "deleteModel": 'mutation { deleteModel(id: "MODEL") { id backtests } }',
}


class World:
    """The services of one test, and requests against them as a principal."""

    def __init__(self, stored: Stored, metadata: Metadata, public_data: bool = True) -> None:
        self.stored = stored
        self.metadata = metadata
        self.model_id = stored.model.model_id
        self.backtest_id = stored.backtest.backtest_id
        self.catalog = FakeCatalog(stored)
        self.jobs = JobRegistry()
        self.predictions = FakePredictions()
        self.settings = stored.settings.model_copy(update={"graphql_public_data": public_data})

    def run(self, query: str, principal: Principal | None, **variables: Any) -> ExecutionResult:
        services = {ModelCatalog: self.catalog, JobRegistry: self.jobs,
                    PredictionStore: self.predictions, **self.metadata.services()}  # fmt: skip
        return execute(query, services, self.settings, principal, **variables)

    def data(self, query: str, principal: Principal | None, **variables: Any) -> dict[str, Any]:
        """The answer's data; it must have no errors."""
        result = self.run(query, principal, **variables)
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data

    def error(self, query: str, principal: Principal | None, **variables: Any) -> str:
        result = self.run(query, principal, **variables)
        assert result.errors, query
        return result.errors[0].message

    def model_ids(self, principal: Principal) -> list[tuple[str, str | None]]:
        models = self.data("{ models { id owner } }", principal)["models"]
        return [(m["id"], m["owner"]) for m in models]

    def finished(self, job_id: str) -> JobSnapshot:
        for _ in range(300):
            job = self.jobs.get(job_id)
            if job is not None and job.state.finished:
                return job
            time.sleep(0.01)
        raise AssertionError(f"job {job_id} did not finish")

    def unchanged(self) -> None:
        """Nothing was started, written or deleted."""
        assert self.jobs.recent(10) == []
        assert self.catalog.calls == []
        assert self.predictions.calls == []
        assert [m.model_id for m in self.catalog.list_models()] == [self.model_id]
        assert [b.backtest_id for b in self.catalog.backtests(self.model_id)] == [self.backtest_id]


@pytest.fixture
def world(own_stored: Stored, metadata: Metadata) -> World:
    """Alice's model (with her backtest) in a model store of the test's own."""
    metadata.ownership.record_model(own_stored.model.model_id, ALICE.user_id)
    metadata.ownership.record_backtest(own_stored.backtest.backtest_id,
                                       own_stored.model.model_id, ALICE.user_id)  # fmt: skip
    return World(own_stored, metadata)


@pytest.fixture
def shared(own_stored: Stored, metadata: Metadata) -> World:
    """The model with no owner row (trained outside the server), its backtest likewise."""
    return World(own_stored, metadata)


def test_models_lists_the_shared_and_the_keys_own_and_all_for_an_admin(world: World) -> None:
    assert world.model_ids(ALICE) == [(world.model_id, "alice")]
    assert world.model_ids(BOB) == []
    assert world.model_ids(ROOT) == [(world.model_id, "alice")]
    world.metadata.ownership.forget_model(world.model_id)  # now shared
    assert world.model_ids(BOB) == [(world.model_id, None)]


@pytest.mark.parametrize("query", [*MODEL_READS.values(), *MODEL_MUTATIONS.values()])
def test_someone_elses_model_is_answered_as_an_unknown_one(world: World, query: str) -> None:
    theirs = world.error(query.replace("MODEL", world.model_id), BOB)
    unknown = world.error(query.replace("MODEL", UNKNOWN), BOB)
    assert theirs == unknown.replace(UNKNOWN, world.model_id)
    assert theirs.startswith(f"unknown model '{world.model_id}' (fix: the `models` query")
    world.unchanged()


def test_someone_elses_backtest_is_answered_as_an_unknown_one(world: World) -> None:
    query = '{ backtestResult(id: "ID") { id } }'
    theirs = world.error(query.replace("ID", world.backtest_id), BOB)
    unknown = world.error(query.replace("ID", UNKNOWN_BACKTEST), BOB)
    assert theirs == unknown.replace(UNKNOWN_BACKTEST, world.backtest_id)
    assert theirs.startswith(f"no backtest '{world.backtest_id}'")


def test_a_shared_models_private_backtest_is_its_owners_alone(shared: World) -> None:
    shared.metadata.ownership.record_backtest(shared.backtest_id, shared.model_id, BOB.user_id)
    query = '{ model(id: "MODEL") { backtests { id } } }'.replace("MODEL", shared.model_id)
    found = {p.name: shared.data(query, p)["model"]["backtests"] for p in (ALICE, BOB, ROOT)}
    assert found == {"alice": [], "bob": [{"id": shared.backtest_id}],
                     "root": [{"id": shared.backtest_id}]}  # fmt: skip
    result = '{ backtestResult(id: "ID") { id } }'.replace("ID", shared.backtest_id)
    assert shared.error(result, ALICE).startswith(f"no backtest '{shared.backtest_id}'")
    assert shared.data(result, ROOT) == {"backtestResult": {"id": shared.backtest_id}}


@pytest.mark.parametrize("principal", [ALICE, ROOT], ids=["owner", "admin"])
def test_the_owner_and_an_admin_read_the_model_its_backtest_and_predictions(
    world: World, principal: Principal
) -> None:
    for field, query in MODEL_READS.items():
        assert world.data(query.replace("MODEL", world.model_id), principal)[field]
    detail = world.data(
        '{ model(id: "MODEL") { owner backtests { id } } }'.replace("MODEL", world.model_id),
        principal,
    )
    assert detail["model"] == {"owner": "alice", "backtests": [{"id": world.backtest_id}]}
    found = world.data('{ backtestResult(id: "ID") { modelId } }'.replace("ID", world.backtest_id),
                      principal)  # fmt: skip
    assert found == {"backtestResult": {"modelId": world.model_id}}


@pytest.mark.parametrize("principal", [ALICE, ROOT], ids=["owner", "admin"])
def test_the_owner_and_an_admin_predict_and_backtest_as_themselves(
    world: World, principal: Principal
) -> None:
    for name in ("predict", "backtest"):
        started = world.data(MODEL_MUTATIONS[name].replace("MODEL", world.model_id), principal)
        job = world.finished(started[name]["id"])
        assert (job.state, job.owner_id) == (JobState.SUCCEEDED, principal.user_id)
    # the backtest made is the key's user's
    owner = world.metadata.ownership.backtest_owner(world.backtest_id)
    assert owner == principal.user_id


@pytest.mark.parametrize("principal", [ALICE, ROOT], ids=["owner", "admin"])
def test_the_owner_or_an_admin_deletes_the_model_its_backtests_and_its_rows(
    world: World, principal: Principal
) -> None:
    query = MODEL_MUTATIONS["deleteModel"].replace("MODEL", world.model_id)
    assert world.data(query, principal)["deleteModel"] == {
        "id": world.model_id,
        "backtests": [world.backtest_id],
    }
    assert world.catalog.list_models() == []
    assert not (world.stored.settings.model_store_dir / world.model_id).exists()
    ownership = world.metadata.ownership
    assert ownership.model_owners() == {}
    assert ownership.backtest_owner(world.backtest_id) is None
    assert world.error(query, principal).startswith(f"unknown model '{world.model_id}'")


def test_a_shared_model_is_deleted_by_an_admin_only(shared: World) -> None:
    query = MODEL_MUTATIONS["deleteModel"].replace("MODEL", shared.model_id)
    for principal in (ALICE, BOB):
        result = shared.run(query, principal)
        assert result.errors
        assert result.errors[0].message == (
            f"model '{shared.model_id}' is shared: only an administrator may delete it"
        )
        assert result.errors[0].extensions == {"code": "FORBIDDEN"}
    shared.unchanged()
    assert shared.run(query, ROOT).errors is None
    assert shared.catalog.list_models() == []


def test_a_shared_model_is_read_and_used_by_every_key(shared: World) -> None:
    for principal in (ALICE, BOB):
        for field, query in {**MODEL_READS, "predict": MODEL_MUTATIONS["predict"]}.items():
            result = shared.run(query.replace("MODEL", shared.model_id), principal)
            assert result.errors is None, (field, result.errors)


def test_predictions_of_a_shared_model_follow_public_data_a_private_ones_need_a_key(
    own_stored: Stored, metadata: Metadata
) -> None:
    query = MODEL_READS["predictions"].replace("MODEL", own_stored.model.model_id)
    public = World(own_stored, metadata, public_data=True)
    assert public.run(query, None).errors is None  # shared: market data
    closed = World(own_stored, metadata, public_data=False)
    result = closed.run(query, None)
    assert result.errors
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
    metadata.ownership.record_model(own_stored.model.model_id, ALICE.user_id)
    theirs = public.error(query, None)
    assert theirs == public.error(query.replace(own_stored.model.model_id, UNKNOWN),
                                  None).replace(UNKNOWN, own_stored.model.model_id)  # fmt: skip
    assert public.run(query, ALICE).errors is None


@pytest.mark.parametrize(
    "query",
    [
        "{ models { id } }",
        MODEL_READS["model"],
        MODEL_READS["exportModel"],
        '{ backtestResult(id: "ID") { id } }',
        *MODEL_MUTATIONS.values(),
        "mutation($c: JSON!) { trainModel(config: $c) { id } }",
        "mutation { trainModel(configId: 1) { id } }",
    ],
)
def test_without_a_key_nothing_is_read_or_changed(shared: World, query: str) -> None:
    query = query.replace("MODEL", shared.model_id).replace("ID", shared.backtest_id)
    result = shared.run(query, None, c=CONFIG)
    assert result.errors
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
    assert "this needs an API key" in result.errors[0].message
    shared.unchanged()


TRAIN = "mutation($id: Int!) { trainModel(configId: $id) { id kind description } }"


def test_train_model_from_a_saved_config_makes_the_keys_model(world: World) -> None:
    saved = world.metadata.configs.save(ALICE, "daily", CONFIG)
    world.metadata.ownership.forget_model(world.model_id)
    for principal in (ALICE, ROOT):  # root: an admin trains from anyone's config
        started = world.data(TRAIN, principal, id=saved.id)["trainModel"]
        assert started["description"].startswith("train goog-gql on 1 symbols")
        job = world.finished(started["id"])
        assert (job.state, job.owner_id) == (JobState.SUCCEEDED, principal.user_id)
        (owned,) = world.model_ids(principal)
        assert owned == (world.model_id, principal.name)
    ((_, config), _) = world.catalog.calls
    assert config.features == CONFIG["features"]


def test_someone_elses_config_is_not_trained_from(world: World) -> None:
    saved = world.metadata.configs.save(ALICE, "daily", CONFIG)
    theirs = world.error(TRAIN, BOB, id=saved.id)
    assert theirs == world.error(TRAIN, BOB, id=saved.id + 100).replace(
        str(saved.id + 100), str(saved.id)
    )
    assert theirs.startswith(f"no training config {saved.id} ")
    world.unchanged()


@pytest.mark.parametrize(
    "query",
    [
        "mutation { trainModel { id } }",
        "mutation { trainModel(config: null, configId: null) { id } }",
        "mutation($c: JSON) { trainModel(config: $c, configId: 1) { id } }",
    ],
    ids=["neither", "nulls", "both"],
)
def test_train_model_takes_exactly_one_of_config_and_config_id(world: World, query: str) -> None:
    message = world.error(query, ALICE, **({"c": CONFIG} if "$c" in query else {}))
    assert message.startswith("give exactly one of `config` (a training config document) and "
                              "`configId`")  # fmt: skip
    world.unchanged()


@pytest.mark.parametrize("query", [*MODEL_READS.values(), *MODEL_MUTATIONS.values()])
@pytest.mark.parametrize("bad", ["../etc", "x\x00y", f"{UNKNOWN}\n", "'; DROP TABLE models; --"])
def test_a_malformed_model_id_is_refused_before_any_lookup(
    world: World, query: str, bad: str
) -> None:
    document = query.replace('"MODEL"', "$m")
    if document.startswith("mutation"):
        document = document.replace("mutation {", "mutation($m: String!) {", 1)
    else:
        document = f"query($m: String!) {document}"
    assert "is not a model id" in world.error(document, ALICE, m=bad)
    world.unchanged()
