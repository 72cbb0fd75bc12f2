"""Narwhal's GraphQL API on a real server process and the real stack (the issue's "Done means"
for the query path): real GOOG daily bars and indicators in buckets of the test's own; a model
trained through ``trainModel`` (its job polled to success); ``predict`` scores two years; the
predictions ``predictions(...)`` returns equal plain xgboost's on the exported feature matrix,
with the booster taken from the ``exportModel`` bytes; the subscription starts with the latest
prediction and streams the next; ``backtestResult`` is what ``ml`` stored; a bad config is
refused naming the field. Everything is done with alice's key (the model is hers)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import tarfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from influxdb_client import InfluxDBClient
from kafka import KafkaProducer

from graphql_server.client import GraphQLClientError, query, subscribe
from ml import service
from ml.config import parse_config
from ml.models import LocalModelStore
from ml.results import BacktestStore
from streamlines.child import graphql_server_process
from streamlines.contracts.events import Prediction
from streamlines.settings import Settings
from tests.support.metadata import Keys
from tests.support.ml_stores import fill_goog_stores, store_env

CONFIG = {
    "name": "goog-graphql",
    "symbols": ["GOOG"],
    "start": "2005-06-01",
    "end": "2011-01-01",
    "label": {"kind": "classification", "horizon": 5},
    "hyperparameters": {"num_round": 60, "max_depth": 3, "eta": 0.1},
    "splits": {"folds": 3, "min_train_fraction": 0.5},
}
SCORE = {"start": "2011-01-03T00:00:00Z", "end": "2013-01-01T00:00:00Z"}
JOB = "{ id status phase errors result }"


@pytest.fixture
def stores(
    influx: InfluxDBClient,
    make_bucket: Callable[[str], str],
    settings: Settings,
    unique_name: str,
    tmp_path: Path,
) -> Settings:
    return fill_goog_stores(influx, make_bucket, settings, unique_name, tmp_path / "models")


@pytest.fixture
def server(stores: Settings, sqlite_keys: Keys, tmp_path: Path) -> Iterator[str]:
    env = {**store_env(stores), "STREAMLINES_DATABASE_URL": sqlite_keys.url}
    with graphql_server_process(env, log_path=tmp_path / "graphql.log") as url:
        yield url


def finished_job(url: str, job_id: str, key: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = query(url, f'{{ job(id: "{job_id}") {JOB} }}', api_key=key)["job"]
        if job["status"] not in ("QUEUED", "RUNNING"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def run_job(
    url: str, mutation: str, name: str, variables: dict[str, Any], key: str
) -> dict[str, Any]:
    job = query(url, mutation, variables, api_key=key)[name]
    done = finished_job(url, job["id"], key)
    assert done["status"] == "SUCCEEDED", done
    return done["result"]


def health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url.replace("/graphql", "/healthz"), timeout=10) as response:
        return json.loads(response.read())


def booster_from_export(export: dict[str, Any]) -> xgb.Booster:
    data = base64.b64decode(export["contentBase64"], validate=True)
    assert hashlib.sha256(data).hexdigest() == export["sha256"]
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        raw = bytearray(member.read())
    booster = xgb.Booster()
    booster.load_model(raw)
    return booster


def test_train_predict_export_subscribe_and_backtest_through_graphql(
    stores: Settings, server: str, sqlite_keys: Keys
) -> None:
    key = sqlite_keys.alice
    trained = run_job(
        server, f"mutation($c: JSON!) {{ trainModel(config: $c) {JOB} }}", "trainModel",
        {"c": CONFIG}, key,
    )  # fmt: skip
    model_id = trained["model_id"]
    record = LocalModelStore.from_settings(stores).get(model_id)
    model = query(
        server,
        """query($id: String!) { model(id: $id) { id featureNames xgboostVersion config
             metrics { mean folds { fold metrics } } importance { feature gain }
             dataRange { rows } } }""",
        {"id": model_id},
        api_key=key,
    )["model"]
    assert model["featureNames"] == record.metadata["feature_names"]
    assert model["metrics"]["mean"] == record.metadata["metrics"]["mean"]
    assert len(model["metrics"]["folds"]) == 3
    assert {g["feature"]: g["gain"] for g in model["importance"]} == record.metadata["importance"]
    assert query(server, "{ models { id owner } }", api_key=key)["models"] == [
        {"id": model_id, "owner": "alice"}
    ]

    predicted = run_job(
        server,
        f"""mutation($m: String!, $a: DateTime!, $b: DateTime!) {{
              predict(modelId: $m, symbols: ["GOOG"], start: $a, end: $b) {JOB} }}""",
        "predict",
        {"m": model_id, "a": SCORE["start"], "b": SCORE["end"]},
        key,
    )
    points = query(
        server,
        """query($m: String!, $a: DateTime!, $b: DateTime!) {
             predictions(symbol: "GOOG", start: $a, end: $b, modelId: $m) { tNs value } }""",
        {"m": model_id, "a": SCORE["start"], "b": SCORE["end"]},
        api_key=key,
    )["predictions"]
    assert len(points) == predicted["predictions"] > 450  # two years of trading days
    by_time = {int(p["tNs"]): p["value"] for p in points}

    # Plain xgboost, from the exported artifact, on the feature matrix of the same bars.
    export = query(
        server,
        "query($m: String!) { exportModel(id: $m) { fileName sha256 contentBase64 } }",
        {"m": model_id},
        api_key=key,
    )["exportModel"]
    assert export["fileName"] == "model.tar.gz"
    booster = booster_from_export(export)
    scoring = parse_config({**CONFIG, "start": SCORE["start"], "end": SCORE["end"]})
    matrix = service.feature_matrix(stores, scoring)
    features = record.metadata["feature_names"]
    plain = booster.predict(xgb.DMatrix(matrix[features].to_numpy(), feature_names=features))
    times = matrix["time"].astype("int64").to_numpy()
    assert set(times) <= set(by_time)  # the matrix drops the last bars (no label yet)
    served = np.array([by_time[t] for t in times])
    np.testing.assert_array_equal(served, plain.astype("float64"))

    # Live: the latest prediction first, then one published after subscribing.
    latest = max(by_time)
    for _ in range(200):
        if health(server)["predictions_received"] >= len(points):
            break
        time.sleep(0.1)
    received = asyncio.run(asyncio.wait_for(live_predictions(server, stores, model_id, key), 60))
    assert received == [
        {"tNs": str(latest), "value": by_time[latest], "modelId": model_id},
        {"tNs": str(latest + 86_400 * 10**9), "value": 0.875, "modelId": model_id},
    ]

    backtested = run_job(
        server,
        f"""mutation($m: String!, $a: DateTime!, $b: DateTime!) {{
              backtest(modelId: $m, start: $a, end: $b, costBps: 5) {JOB} }}""",
        "backtest",
        {"m": model_id, "a": SCORE["start"], "b": SCORE["end"]},
        key,
    )
    kept = BacktestStore(stores.model_store_dir).get(backtested["backtest_id"])
    result = query(
        server,
        """query($id: String!) { backtestResult(id: $id) { id modelId
             spec { strategy costBps periodsPerYear }
             portfolio { strategy { totalReturn sharpe sortino maxDrawdown bars }
                         buyAndHold { totalReturn } strategyEquity { tNs value } }
             symbols { symbol strategy { totalReturn } } } }""",
        {"id": backtested["backtest_id"]},
        api_key=key,
    )["backtestResult"]
    portfolio = kept.result.portfolio
    assert (result["id"], result["modelId"]) == (kept.backtest_id, model_id)
    assert result["spec"] == {"strategy": "LONG_FLAT", "costBps": 5.0, "periodsPerYear": 252}
    assert result["portfolio"]["strategy"] == {
        "totalReturn": portfolio.strategy.total_return,
        "sharpe": portfolio.strategy.sharpe,
        "sortino": portfolio.strategy.sortino,
        "maxDrawdown": portfolio.strategy.max_drawdown,
        "bars": portfolio.strategy.bars,
    }
    assert result["portfolio"]["buyAndHold"]["totalReturn"] == portfolio.buy_and_hold.total_return
    equity = result["portfolio"]["strategyEquity"]
    assert equity["tNs"] == [str(t) for t in portfolio.strategy_equity.time_ns]
    assert equity["value"] == list(portfolio.strategy_equity.value)
    assert result["symbols"] == [
        {
            "symbol": "GOOG",
            "strategy": {"totalReturn": kept.result.symbols["GOOG"].strategy.total_return},
        }
    ]
    assert backtested["total_return"] == portfolio.strategy.total_return


async def live_predictions(server: str, stores: Settings, model_id: str,
                           key: str) -> list[dict]:  # fmt: skip
    document = f"""subscription {{ predictions(symbols: ["GOOG"], modelId: "{model_id}") {{
                     tNs value modelId }} }}"""
    received: list[dict] = []
    stream = subscribe(server, document, api_key=key)
    async for data in stream:
        received.append(data["predictions"])
        if len(received) == 1:
            latest = int(received[0]["tNs"])
            await asyncio.to_thread(publish_one, stores, model_id, latest + 86_400 * 10**9)
        if len(received) == 2:
            break
    await stream.aclose()
    return received


def publish_one(stores: Settings, model_id: str, t_ns: int) -> None:
    producer = KafkaProducer(bootstrap_servers=stores.kafka_bootstrap, acks="all")
    try:
        event = Prediction(symbol="GOOG", t_ns=t_ns, model_id=model_id, timeframe="1Day",
                           horizon=5, value=0.875)  # fmt: skip
        producer.send(stores.predictions_topic, key=event.key(), value=event.to_wire())
        producer.flush()
    finally:
        producer.close()


def test_an_invalid_config_is_refused_naming_the_field(
    stores: Settings, server: str, sqlite_keys: Keys
) -> None:
    key = sqlite_keys.alice
    bad = {**CONFIG, "features": ["ret_1", "moon_phase"]}
    with pytest.raises(
        GraphQLClientError, match=r"field `features`: unknown feature\(s\) moon_phase"
    ):
        query(server, "mutation($c: JSON!) { trainModel(config: $c) { id } }", {"c": bad},
              api_key=key)  # fmt: skip
    assert query(server, "{ jobs { id } }", api_key=sqlite_keys.root)["jobs"] == []
    with pytest.raises(
        GraphQLClientError, match="unknown model 'goog-graphql-20200101T000000-abcdef'"
    ):
        query(server, '{ model(id: "goog-graphql-20200101T000000-abcdef") { id } }',
              api_key=key)  # fmt: skip
    assert not stores.model_store_dir.exists() or not any(stores.model_store_dir.iterdir())
