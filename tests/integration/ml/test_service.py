"""Narwhal end to end on the stack: real GOOG daily bars and their indicators in InfluxDB
buckets of the test's own; a model trained by ``streamlines ml train``; its exported
``model.tar.gz`` loaded with plain xgboost scores the exported feature matrix exactly as the
predictions ``streamlines ml predict`` wrote to InfluxDB and to the predictions topic; the
backtest equals the loop-based reference on the same predictions and closes."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from influxdb_client import InfluxDBClient
from kafka.consumer.fetcher import ConsumerRecord

from ml import service
from ml.artifacts import predict
from ml.backtest import BacktestSpec
from ml.config import parse_config
from ml.data import load_frames
from ml.models import LocalModelStore
from streamlines.contracts.events import Prediction
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError
from streamlines.settings import Settings
from tests.references.backtest import assert_matches_reference
from tests.support.ml_stores import fill_goog_stores, store_env
from tests.support.processes import run_cli

TRAIN = {"start": "2005-06-01", "end": "2011-01-01"}
SCORE_START, SCORE_END = datetime(2011, 1, 3, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC)
CONFIG = {
    "name": "goog-daily",
    "symbols": ["GOOG"],
    **TRAIN,
    "label": {"kind": "classification", "horizon": 5},
    "hyperparameters": {"num_round": 60, "max_depth": 3, "eta": 0.1},
    "splits": {"folds": 3, "min_train_fraction": 0.5},
}


@pytest.fixture
def stores(
    influx: InfluxDBClient,
    make_bucket: Callable[[str], str],
    settings: Settings,
    unique_name: str,
    tmp_path: Path,
) -> Settings:
    """The settings of this test's own buckets, topics and model folder, GOOG written."""
    return fill_goog_stores(influx, make_bucket, settings, unique_name, tmp_path / "models")


def _cli(settings: Settings, *args: str) -> str:
    done = run_cli(*args, env=store_env(settings), timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def _stored_predictions(influx: InfluxDBClient, settings: Settings, model_id: str) -> pd.Series:
    flux = """
from(bucket: bucket_name)
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "predictions" and r.model_id == model and
                       r._field == "value")
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""
    tables = influx.query_api().query(
        flux, params={"bucket_name": settings.predictions_bucket, "model": model_id}
    )
    rows = {int(r.values["t_ns"]): float(r.get_value()) for t in tables for r in t.records}
    return pd.Series(rows).sort_index()


def _plain_xgboost(artifact: Path, tmp_path: Path) -> xgb.Booster:
    with tarfile.open(artifact, "r:gz") as tar:
        tar.extract("xgboost-model", tmp_path, filter="data")
    return xgb.Booster(model_file=str(tmp_path / "xgboost-model"))


def test_train_export_predict_and_backtest_agree_with_plain_xgboost_and_the_reference(
    stores: Settings,
    influx: InfluxDBClient,
    read_topic: Callable[..., list[ConsumerRecord]],
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(CONFIG))
    model_id = _cli(stores, "ml", "train", str(config_file)).strip().splitlines()[-1]
    assert model_id in _cli(stores, "ml", "models")
    record = LocalModelStore.from_settings(stores).get(model_id)
    assert record.metrics
    assert record.metadata["feature_names"] == parse_config(CONFIG).features

    _cli(stores, "ml", "predict", model_id, "--start", SCORE_START.date().isoformat(),
         "--end", SCORE_END.date().isoformat())  # fmt: skip
    stored = _stored_predictions(influx, stores, model_id)
    assert len(stored) > 450  # two years of trading days

    # The exported matrix of the same bars, scored by plain xgboost from the exported artifact.
    matrix_file = tmp_path / "features.parquet"
    _cli(stores, "ml", "features", "--symbols", "GOOG", "--start",
         SCORE_START.date().isoformat(), "--end", SCORE_END.date().isoformat(),
         "--out", str(matrix_file))  # fmt: skip
    matrix = pd.read_parquet(matrix_file)
    exported = Path(_cli(stores, "ml", "export", model_id, "--out", str(tmp_path)).strip())
    booster = _plain_xgboost(exported, tmp_path / "plain")
    features = record.metadata["feature_names"]
    plain = booster.predict(xgb.DMatrix(matrix[features].to_numpy(), feature_names=features))
    times = matrix["time"].astype("int64").to_numpy()
    assert set(times) <= set(stored.index)  # the matrix drops the last bars (no label yet)
    np.testing.assert_array_equal(stored.loc[times].to_numpy(), plain.astype("float64"))

    published = read_topic(stores.predictions_topic, len(stored))
    on_topic = {p.t_ns: p.value for p in map(Prediction.from_wire, (r.value for r in published))}
    assert on_topic == stored.to_dict()

    spec = BacktestSpec.for_timeframe(BarTimeframe(record.metadata["config"]["timeframe"]),
                                      cost_bps=5.0)  # fmt: skip
    backtest = service.backtest_model(stores, model_id, SCORE_START, SCORE_END, spec)
    closes = load_frames(stores, ["GOOG"], SCORE_START, SCORE_END, "1Day")["GOOG"]
    scored = pd.DataFrame({"time": pd.to_datetime(stored.index, utc=True),
                           "prediction": stored.to_numpy()})  # fmt: skip
    frame = closes[["time", "close"]].merge(scored, on="time", how="inner")
    assert len(frame) == len(stored)
    assert_matches_reference(backtest.result, {"GOOG": frame}, spec)
    assert (
        LocalModelStore.from_settings(stores)
        .root.joinpath(model_id, "backtests", f"{backtest.backtest_id}.json")
        .is_file()
    )


def test_a_config_with_an_unknown_feature_is_refused_naming_the_field(
    stores: Settings, tmp_path: Path
) -> None:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({**CONFIG, "features": ["ret_1", "moon_phase"]}))
    done = run_cli("ml", "train", str(config_file), env=store_env(stores), timeout=120)
    assert done.returncode == 1
    assert "field `features`: unknown feature(s) moon_phase" in done.stderr
    assert "Traceback" not in done.stderr
    assert not stores.model_store_dir.exists() or not any(stores.model_store_dir.iterdir())


def test_a_horizon_longer_than_the_data_is_refused(stores: Settings) -> None:
    config = parse_config({**CONFIG, "start": "2012-12-20", "end": "2013-01-01",
                           "label": {"kind": "classification", "horizon": 30}})  # fmt: skip
    with pytest.raises(UserError, match=r"label\.horizon"):
        service.train_model(stores, config)


def test_the_sagemaker_backend_trains_through_the_emulator_into_the_same_artifact(
    stores: Settings, tmp_path: Path
) -> None:
    """`streamlines ml train --backend sagemaker`: the built-in algorithm's job on the local AWS
    emulator (compute emulated, see ml/sagemaker_runner.py); the stored model is the same
    format, and plain xgboost on its export scores the matrix as Narwhal does."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(CONFIG))
    output = _cli(stores, "ml", "train", str(config_file), "--backend", "sagemaker")
    model_id = output.strip().splitlines()[-1]
    store = LocalModelStore.from_settings(stores)
    record = store.get(model_id)
    assert record.metadata["config"]["backend"] == "sagemaker"
    assert record.metadata["notes"]["training_job"]
    matrix = service.feature_matrix(stores, parse_config(CONFIG))
    exported = Path(_cli(stores, "ml", "export", model_id, "--out", str(tmp_path)).strip())
    booster = _plain_xgboost(exported, tmp_path / "plain")
    features = record.metadata["feature_names"]
    plain = booster.predict(xgb.DMatrix(matrix[features].to_numpy(), feature_names=features))
    np.testing.assert_array_equal(plain, predict(store.load(model_id), matrix))
