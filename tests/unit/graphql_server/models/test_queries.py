"""Narwhal's queries on a real model store (a model trained on GOOG, a backtest kept with it)
and a fake predictions store: what they return is what ml stored, errors are messages."""

from __future__ import annotations

import base64
import hashlib
import math
from pathlib import Path

import pytest

from graphql_server.models.catalog import ModelCatalog
from graphql_server.models.store import PredictionStore, StoredPrediction
from graphql_server.validation import TimeRange
from ml.backtest import Metrics
from tests.support.graphql import DAY, DAY_T0, execute
from tests.unit.graphql_server.models.conftest import Metadata, Stored


class FakePredictions:
    def __init__(self, count: int = 2) -> None:
        self.count = count
        self.calls: list[tuple] = []

    def predictions(
        self, symbol: str, model_id: str, window: TimeRange, max_rows: int
    ) -> list[StoredPrediction]:
        self.calls.append((symbol, model_id, window.start_ns, window.end_ns, max_rows))
        return [
            StoredPrediction(symbol, model_id, DAY_T0 + i * DAY, "1Day", 5, 0.25 + i / 8)
            for i in range(min(self.count, max_rows))
        ]


def run(stored: Stored, metadata: Metadata, query: str, store: FakePredictions | None = None,
        **variables):  # fmt: skip
    services: dict[type, object] = {
        ModelCatalog: ModelCatalog(stored.settings),
        PredictionStore: store or FakePredictions(),
        **metadata.services(),
    }
    return execute(query, services, stored.settings, **variables)


def test_models_lists_the_stored_model(stored: Stored, metadata: Metadata) -> None:
    result = run(stored, metadata, "{ models { id name owner createdAt xgboostVersion } }")
    assert result.errors is None
    (model,) = result.data["models"]
    meta = stored.model.metadata
    assert model == {
        "id": stored.model.model_id,
        "name": "goog-gql",
        "owner": None,  # trained outside the server: shared
        "createdAt": stored.model.created_at.isoformat(),
        "xgboostVersion": meta["xgboost_version"],
    }


def test_model_has_config_metrics_per_fold_importance_range_and_backtests(
    stored: Stored, metadata: Metadata
) -> None:
    result = run(
        stored,
        metadata,
        """query($id: String!) { model(id: $id) {
             config featureNames objective
             metrics { mean folds { fold trainRows validationRows validationFirst bestIteration
                                    roundsRun metrics } }
             importance { feature gain }
             dataRange { first last rows symbols }
             backtests { id start spec { strategy costBps threshold periodsPerYear kind }
                         strategy { totalReturn sharpe } buyAndHold { totalReturn } } } }""",
        id=stored.model.model_id,
    )
    assert result.errors is None
    model = result.data["model"]
    meta = stored.model.metadata
    assert model["config"] == meta["config"]
    assert model["featureNames"] == meta["feature_names"] == meta["config"]["features"]
    assert model["metrics"]["mean"] == meta["metrics"]["mean"]
    folds = model["metrics"]["folds"]
    assert [f["fold"] for f in folds] == [f["fold"] for f in meta["metrics"]["folds"]]
    assert [f["metrics"] for f in folds] == [f["metrics"] for f in meta["metrics"]["folds"]]
    assert folds[0]["trainRows"] == meta["metrics"]["folds"][0]["train_rows"]
    # the mean is the mean of the folds, as stored
    for name, value in model["metrics"]["mean"].items():
        assert math.isclose(value, sum(f["metrics"][name] for f in folds) / len(folds))
    assert [(g["feature"], g["gain"]) for g in model["importance"]] == list(
        meta["importance"].items()
    )
    assert model["dataRange"]["rows"] == meta["data_range"]["rows"]
    assert model["dataRange"]["symbols"] == ["GOOG"]
    (backtest,) = model["backtests"]
    portfolio = stored.backtest.result.portfolio
    assert backtest["id"] == stored.backtest.backtest_id
    assert backtest["spec"] == {"strategy": "LONG_FLAT", "costBps": 5.0, "threshold": 0.5,
                                "periodsPerYear": 252, "kind": "classification"}  # fmt: skip
    assert backtest["strategy"] == {
        "totalReturn": portfolio.strategy.total_return,
        "sharpe": portfolio.strategy.sharpe,
    }
    assert backtest["buyAndHold"]["totalReturn"] == portfolio.buy_and_hold.total_return


def test_backtest_result_is_what_ml_stored(stored: Stored, metadata: Metadata) -> None:
    metric_fields = "totalReturn annualizedReturn annualizedVolatility sharpe sortino " \
                    "maxDrawdown hitRate turnover exposure bars"  # fmt: skip
    book = f"""symbol strategy {{ {metric_fields} }} buyAndHold {{ {metric_fields} }}
               strategyEquity {{ time tNs value }} buyAndHoldEquity {{ tNs value }}"""
    result = run(
        stored,
        metadata,
        f"""query($id: String!) {{ backtestResult(id: $id) {{
              id modelId start end spec {{ strategy costBps }}
              portfolio {{ {book} }} symbols {{ {book} }} }} }}""",
        id=stored.backtest.backtest_id,
    )
    assert result.errors is None
    found = result.data["backtestResult"]
    record = stored.backtest
    assert (found["id"], found["modelId"]) == (record.backtest_id, record.model_id)
    assert found["start"] == record.start.isoformat()

    def metrics(m: Metrics) -> dict:
        names = [n.strip() for n in metric_fields.split()]
        snake = {n: "".join("_" + c.lower() if c.isupper() else c for c in n) for n in names}
        return {n: m.to_json()[snake[n]] for n in names}

    for got, symbol, expected in [
        (found["portfolio"], None, record.result.portfolio),
        (found["symbols"][0], "GOOG", record.result.symbols["GOOG"]),
    ]:
        assert got["symbol"] == symbol
        assert got["strategy"] == metrics(expected.strategy)
        assert got["buyAndHold"] == metrics(expected.buy_and_hold)
        assert got["strategyEquity"]["tNs"] == [str(t) for t in expected.strategy_equity.time_ns]
        assert got["strategyEquity"]["value"] == list(expected.strategy_equity.value)
        assert got["buyAndHoldEquity"]["value"] == list(expected.buy_and_hold_equity.value)
    equity = found["portfolio"]["strategyEquity"]
    assert equity["time"][0].startswith("2011-01-0")
    assert len(equity["time"]) == len(equity["value"]) == record.result.portfolio.strategy.bars + 1


def test_export_model_gives_the_artifact_as_base64_with_its_checksum(
    stored: Stored, metadata: Metadata
) -> None:
    result = run(
        stored,
        metadata,
        "query($id: String!) { exportModel(id: $id) { modelId fileName sizeBytes sha256 "
        "contentBase64 } }",
        id=stored.model.model_id,
    )
    assert result.errors is None
    export = result.data["exportModel"]
    data = base64.b64decode(export["contentBase64"], validate=True)
    assert data == Path(stored.model.path).read_bytes()
    assert export["sha256"] == hashlib.sha256(data).hexdigest()
    assert (export["fileName"], export["sizeBytes"]) == ("model.tar.gz", len(data))


def test_predictions_come_from_the_store_with_the_arguments_checked(
    stored: Stored, metadata: Metadata
) -> None:
    store = FakePredictions()
    result = run(
        stored,
        metadata,
        """query($id: String!) { predictions(symbol: "GOOG", start: "2012-01-03",
             end: "2012-02-01", modelId: $id) { symbol modelId tNs time timeframe horizon
             value } }""",
        store,
        id=stored.model.model_id,
    )
    assert result.errors is None
    first, second = result.data["predictions"]
    assert first == {"symbol": "GOOG", "modelId": stored.model.model_id, "tNs": str(DAY_T0),
                     "time": "2012-01-03T05:00:00+00:00", "timeframe": "1Day", "horizon": 5,
                     "value": 0.25}  # fmt: skip
    assert second["value"] == 0.375
    ((symbol, model_id, start_ns, end_ns, max_rows),) = store.calls
    assert (symbol, model_id) == ("GOOG", stored.model.model_id)
    assert (start_ns, end_ns) == (1_325_548_800 * 10**9, 1_328_054_400 * 10**9)
    assert max_rows == stored.settings.graphql_max_points + 1


def test_more_predictions_than_the_limit_is_an_error(stored: Stored, metadata: Metadata) -> None:
    settings = stored.settings.model_copy(update={"graphql_max_points": 3})
    services: dict[type, object] = {
        ModelCatalog: ModelCatalog(settings),
        PredictionStore: FakePredictions(10),
        **metadata.services(),
    }
    result = execute(
        """query($id: String!) { predictions(symbol: "GOOG", start: "2012-01-03",
             end: "2012-02-01", modelId: $id) { tNs } }""",
        services,
        settings,
        id=stored.model.model_id,
    )
    assert result.errors
    assert "more than 3 predictions in that range" in result.errors[0].message


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('{ model(id: "goog-gql-20200101T000000-abcdef") { id } }', "unknown model"),
        ('{ model(id: "../etc") { id } }', "is not a model id"),
        ('{ exportModel(id: "goog-gql-20200101T000000-abcdef") { sha256 } }', "unknown model"),
        ('{ backtestResult(id: "bt-20200101T000000-abcdef") { id } }', "no backtest"),
        ('{ backtestResult(id: "x") { id } }', "is not a backtest id"),
        (
            '{ predictions(symbol: "goog", start: "2012-01-03", end: "2012-01-04", '
            'modelId: "x") { tNs } }',
            "invalid symbol 'goog'",
        ),
        (
            '{ predictions(symbol: "GOOG", start: "2012-01-04", end: "2012-01-03", '
            'modelId: "goog-gql-20200101T000000-abcdef") { tNs } }',
            "is not after start",
        ),
        (
            '{ predictions(symbol: "GOOG", start: "2012-01-03", end: "2012-01-04", '
            'modelId: "goog-gql-20200101T000000-abcdef") { tNs } }',
            "unknown model",
        ),
    ],
)
def test_bad_ids_and_arguments_are_messages_not_traces(
    stored: Stored, metadata: Metadata, query: str, message: str
) -> None:
    store = FakePredictions()
    result = run(stored, metadata, query, store)
    assert result.errors, query
    assert message in result.errors[0].message
    assert "internal server error" not in result.errors[0].message
    assert store.calls == []
