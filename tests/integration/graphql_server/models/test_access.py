"""Who may see and use which training config, model and backtest, on a real server process, the
real stack and both metadata backends (SQLite and PostgreSQL): the issue's "user A cannot list,
read, train from, backtest, export or delete user B's config or model; an admin can", and "a
mutation without a key, with a revoked key, and with another user's key is refused, and
nothing changes in InfluxDB or the database" for Narwhal's mutations.

One server per backend for the whole module, on GOOG's real daily bars; alice (a plain user)
saves a config, trains a small model from it and backtests it once; bob is another plain user,
root an administrator."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from influxdb_client import BucketRetentionRules, InfluxDBClient
from sqlalchemy import select

from graphql_server.client import GraphQLClientError, post, query
from streamlines.child import graphql_server_process
from streamlines.metadata.accounts import Accounts
from streamlines.metadata.database import open_database
from streamlines.metadata.tables import BacktestOwner, Job, ModelOwner, TrainingConfig
from streamlines.settings import Settings
from streamlines.stack.manager import Stack
from tests.conftest import delete_topics_starting_with
from tests.support.metadata import BACKENDS, Keys, make_keys, postgres_database, sqlite_url
from tests.support.ml_stores import fill_goog_stores, store_env

CONFIG = {
    "name": "goog-access",
    "symbols": ["GOOG"],
    "start": "2006-01-01",
    "end": "2011-01-01",
    "label": {"kind": "classification", "horizon": 5},
    "hyperparameters": {"num_round": 20, "max_depth": 2, "eta": 0.3},
    "splits": {"folds": 2, "min_train_fraction": 0.6},
}
RANGE = {"a": "2011-01-03T00:00:00Z", "b": "2012-01-01T00:00:00Z"}
JOB = "{ id status errors result }"
SAVE = "mutation($n: String!, $c: JSON!) { saveTrainingConfig(name: $n, config: $c) { id } }"
TRAIN_FROM = "mutation($id: Int!) { trainModel(configId: $id) { id } }"
BACKTEST = "mutation($m: String!, $a: DateTime!, $b: DateTime!) { backtest(modelId: $m, " \
           "start: $a, end: $b) { id } }"  # fmt: skip
DELETE_MODEL = "mutation($m: String!) { deleteModel(id: $m) { id backtests } }"
DELETE_CONFIG = "mutation($id: Int!) { deleteTrainingConfig(id: $id) { id } }"


@pytest.fixture(scope="module")
def market(stack: Stack, settings: Settings) -> Iterator[Settings]:
    """GOOG's daily bars and indicators in buckets of this module's own (both backends read
    them), deleted afterwards with the module's topics."""
    name = f"t-models-access-{uuid.uuid4().hex[:8]}"
    with InfluxDBClient(url=settings.influx_url, org=settings.influx_org,
                        token=settings.influx_token.get_secret_value()) as influx:  # fmt: skip
        api = influx.buckets_api()
        created = []

        def make_bucket(kind: str) -> str:
            seconds = settings.influx_shard_group_seconds.get(kind)
            rules = None if seconds is None else BucketRetentionRules(
                type="expire", every_seconds=0, shard_group_duration_seconds=seconds)  # fmt: skip
            created.append(api.create_bucket(bucket_name=f"{name}-{kind}", retention_rules=rules))
            return created[-1].name

        try:
            yield fill_goog_stores(influx, make_bucket, settings, name, Path("unused"))
        finally:
            for bucket in created:
                api.delete_bucket(bucket)
            delete_topics_starting_with(settings.kafka_bootstrap, name)


@dataclass(frozen=True)
class World:
    """A server on one backend, the users' keys, and alice's config, model and backtest."""

    url: str
    keys: Keys
    revoked: str  # a key of alice's, revoked
    stores: Settings
    config_id: int
    model_id: str
    backtest_id: str

    def ask(self, document: str, key: str | None, **variables: Any) -> dict[str, Any]:
        return query(self.url, document, variables, api_key=key)

    def refused(self, document: str, key: str | None, **variables: Any) -> dict[str, Any]:
        """The answer's first error (there must be one)."""
        _status, answer = post(self.url, document, variables, api_key=key)
        assert answer.get("errors"), (document, answer)
        return answer["errors"][0]

    def run_job(self, document: str, key: str, **variables: Any) -> dict[str, Any]:
        (started,) = self.ask(document, key, **variables).values()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            job = self.ask(f'{{ job(id: "{started["id"]}") {JOB} }}', key)["job"]
            if job["status"] not in ("QUEUED", "RUNNING"):
                assert job["status"] == "SUCCEEDED", job
                return job["result"]
            time.sleep(0.2)
        raise AssertionError(f"job {started['id']} did not finish")


@contextlib.contextmanager
def metadata_url(backend: str, folder: Path, settings: Settings) -> Iterator[str]:
    if backend == "sqlite":
        yield sqlite_url(folder)
    else:
        yield from postgres_database(settings)


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest,
    market: Settings,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp(f"access-{request.param}")
    stores = market.model_copy(update={"models_dir": folder / "models"})
    with metadata_url(request.param, folder, settings) as url:
        keys = make_keys(url)
        accounts = Accounts(open_database(Settings(database_url=url)))
        revoked = accounts.create_key("alice", "revoked")
        accounts.revoke_key(revoked.record.prefix)
        env = {**store_env(stores), "STREAMLINES_DATABASE_URL": url}
        with graphql_server_process(env, log_path=folder / "graphql.log") as server:
            bare = World(server, keys, revoked.secret, stores, 0, "", "")
            config_id = bare.ask(SAVE, keys.alice, n="daily", c=CONFIG)["saveTrainingConfig"]["id"]
            model_id = bare.run_job(TRAIN_FROM, keys.alice, id=config_id)["model_id"]
            backtest = bare.run_job(BACKTEST, keys.alice, m=model_id, **RANGE)["backtest_id"]
            yield replace(bare, config_id=config_id, model_id=model_id, backtest_id=backtest)


def test_configs_are_their_owners_and_an_admins(world: World) -> None:
    listing = "{ trainingConfigs { id owner name version } }"
    alices = [{"id": world.config_id, "owner": "alice", "name": "daily", "version": 1}]
    assert world.ask(listing, world.keys.alice)["trainingConfigs"] == alices
    assert world.ask(listing, world.keys.bob)["trainingConfigs"] == []
    assert world.ask(listing, world.keys.root)["trainingConfigs"] == alices
    read = "query($id: Int!) { trainingConfig(id: $id) { id config } }"
    error = world.refused(read, world.keys.bob, id=world.config_id)
    assert error["message"].startswith(f"no training config {world.config_id} ")
    found = world.ask(read, world.keys.root, id=world.config_id)["trainingConfig"]
    assert found["config"]["hyperparameters"]["num_round"] == 20


def test_another_user_cannot_see_read_or_export_the_model_an_admin_can(world: World) -> None:
    mine = [{"id": world.model_id, "owner": "alice"}]
    assert world.ask("{ models { id owner } }", world.keys.alice)["models"] == mine
    assert world.ask("{ models { id owner } }", world.keys.bob)["models"] == []
    assert world.ask("{ models { id owner } }", world.keys.root)["models"] == mine
    reads = {
        "model": "query($m: String!) { model(id: $m) { id backtests { id } } }",
        "exportModel": "query($m: String!) { exportModel(id: $m) { sha256 } }",
        "predictions": """query($m: String!, $a: DateTime!, $b: DateTime!) {
            predictions(symbol: "GOOG", start: $a, end: $b, modelId: $m) { tNs } }""",
    }
    for field, document in reads.items():
        error = world.refused(document, world.keys.bob, m=world.model_id, **RANGE)
        assert error["message"].startswith(f"unknown model '{world.model_id}' (fix: "), field
        assert world.ask(document, world.keys.root, m=world.model_id, **RANGE)[field] is not None
    backtests = world.ask(reads["model"], world.keys.root, m=world.model_id)["model"]["backtests"]
    assert backtests == [{"id": world.backtest_id}]
    result = "query($id: String!) { backtestResult(id: $id) { modelId } }"
    error = world.refused(result, world.keys.bob, id=world.backtest_id)
    assert error["message"].startswith(f"no backtest '{world.backtest_id}'")
    found = world.ask(result, world.keys.root, id=world.backtest_id)["backtestResult"]
    assert found == {"modelId": world.model_id}


def state(world: World) -> dict[str, Any]:
    """What the refused mutations must not change: the metadata rows, the model store's files,
    the predictions in InfluxDB and the server's jobs."""
    database = open_database(Settings(database_url=world.keys.url))
    try:
        with database.session() as session:
            rows = {
                table.__tablename__: sorted(
                    tuple(getattr(row, c.key) for c in table.__table__.columns)
                    for row in session.scalars(select(table))
                )
                for table in (TrainingConfig, ModelOwner, BacktestOwner, Job)
            }
    finally:
        database.close()
    root = world.stores.model_store_dir
    files = sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))
    settings = world.stores
    with InfluxDBClient(url=settings.influx_url, org=settings.influx_org,
                        token=settings.influx_token.get_secret_value()) as influx:  # fmt: skip
        tables = influx.query_api().query(
            "from(bucket: b) |> range(start: 0) |> group() |> count()",
            params={"b": settings.predictions_bucket},
        )
    points = sum(int(r.get_value()) for t in tables for r in t.records)
    jobs = world.ask("{ jobs(limit: 1000) { id status } }", world.keys.root)["jobs"]
    return {"rows": rows, "files": files, "predictions": points, "jobs": jobs}


def test_refused_mutations_change_nothing(world: World) -> None:
    on_alices: dict[
        str, dict[str, Any]
    ] = {  # each mutation on alice's config or model, with its variables
        DELETE_CONFIG: {"id": world.config_id},
        TRAIN_FROM: {"id": world.config_id},
        BACKTEST: {"m": world.model_id, **RANGE},
        DELETE_MODEL: {"m": world.model_id},
        """mutation($m: String!, $a: DateTime!, $b: DateTime!) { predict(modelId: $m,
             symbols: ["GOOG"], start: $a, end: $b) { id } }""": {"m": world.model_id, **RANGE},
    }
    anyones: dict[str, dict[str, Any]] = {
        SAVE: {"n": "daily", "c": CONFIG},
        "mutation($c: JSON!) { trainModel(config: $c) { id } }": {"c": CONFIG},
    }
    before = state(world)
    for document, variables in {**on_alices, **anyones}.items():
        error = world.refused(document, None, **variables)
        assert error["extensions"] == {"code": "UNAUTHENTICATED"}
        assert error["message"].startswith("this needs an API key"), error
        error = world.refused(document, world.revoked, **variables)
        assert error["extensions"] == {"code": "UNAUTHENTICATED"}
        assert error["message"].startswith("the API key is not valid"), error
    for document, variables in on_alices.items():
        error = world.refused(document, world.keys.bob, **variables)
        assert error["message"].startswith(
            (f"no training config {world.config_id} ", f"unknown model '{world.model_id}' ")
        ), error
    time.sleep(0.5)  # a job started by mistake would have written its row by now
    assert state(world) == before


def test_an_admin_trains_from_and_deletes_a_users_config_and_model(world: World) -> None:
    keys = world.keys
    version = world.ask(SAVE, keys.alice, n="daily", c=CONFIG)["saveTrainingConfig"]["id"]
    trained = world.run_job(TRAIN_FROM, keys.root, id=version)["model_id"]  # root's model
    listed = world.ask("{ models { id owner } }", keys.root)["models"]
    assert {"id": trained, "owner": "root"} in listed
    assert trained not in {m["id"] for m in world.ask("{ models { id } }", keys.alice)["models"]}

    alices = world.run_job(TRAIN_FROM, keys.alice, id=version)["model_id"]
    backtest = world.run_job(BACKTEST, keys.alice, m=alices, **RANGE)["backtest_id"]
    with pytest.raises(GraphQLClientError, match=f"unknown model '{alices}'"):
        world.ask(DELETE_MODEL, keys.bob, m=alices)
    deleted = world.ask(DELETE_MODEL, keys.root, m=alices)["deleteModel"]
    assert deleted == {"id": alices, "backtests": [backtest]}
    assert not (world.stores.model_store_dir / alices).exists()
    assert alices not in {m["id"] for m in world.ask("{ models { id } }", keys.root)["models"]}
    with pytest.raises(GraphQLClientError, match=f"no backtest '{backtest}'"):
        world.ask("query($id: String!) { backtestResult(id: $id) { id } }", keys.alice,
                  id=backtest)  # fmt: skip
    database = open_database(Settings(database_url=keys.url))
    try:
        with database.session() as session:
            assert session.get(ModelOwner, alices) is None
            assert session.get(BacktestOwner, backtest) is None
    finally:
        database.close()

    assert world.ask(DELETE_CONFIG, keys.root, id=version)["deleteTrainingConfig"] == {
        "id": version
    }
    remaining = world.ask("{ trainingConfigs { id } }", keys.alice)["trainingConfigs"]
    assert remaining == [{"id": world.config_id}]
    world.ask(DELETE_MODEL, keys.root, m=trained)  # the module's other tests expect alice's only
