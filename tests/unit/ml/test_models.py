"""The model stores, local and on S3 (an in-process moto server): save, get, list, load and
delete models trained on GOOG."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import ml.artifacts as artifacts
from ml.artifacts import predict
from ml.config import TrainingConfig, parse_config
from ml.models import LocalModelStore, ModelStore, S3ModelStore, UnknownModel, model_store
from ml.train import TrainedModel, train_local
from streamlines.errors import UserError
from streamlines.settings import Settings
from tests.support.ml_matrix import FEATURES, matrix
from tests.support.moto_server import moto_endpoint

ID = re.compile(r"^goog-store-\d{8}T\d{6}-[0-9a-f]{6}$")


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return matrix()


@pytest.fixture(scope="module")
def config() -> TrainingConfig:
    return parse_config(
        {
            "name": "goog-store",
            "symbols": ["GOOG"],
            "start": "2004-01-01",
            "end": "2014-01-01",
            "features": FEATURES,
            "hyperparameters": {"max_depth": 3, "eta": 0.3, "num_round": 40},
            "splits": {"folds": 2, "min_train_fraction": 0.6},
        }
    )


@pytest.fixture(scope="module")
def model(goog: pd.DataFrame, config: TrainingConfig) -> TrainedModel:
    return train_local(goog, config)


@pytest.fixture
def store(tmp_path: Path) -> LocalModelStore:
    return LocalModelStore(tmp_path / "models")


def test_save_get_and_load(
    store: LocalModelStore, model: TrainedModel, config: TrainingConfig, goog: pd.DataFrame
) -> None:
    record = store.save(model, config)
    assert ID.match(record.model_id)
    assert Path(record.path) == store.root / record.model_id / "model.tar.gz"
    assert record.name == "goog-store"
    assert record.metrics == pytest.approx(model.mean_metrics)
    assert record.created_at.tzinfo is not None
    assert store.get(record.model_id) == record
    loaded = store.load(record.model_id)
    data = xgb.DMatrix(goog[FEATURES].to_numpy(), feature_names=FEATURES)
    np.testing.assert_array_equal(artifacts.predict(loaded, goog), model.booster.predict(data))
    assert loaded.metadata["model_id"] == record.model_id


def test_list_models_oldest_first(
    store: LocalModelStore, model: TrainedModel, config: TrainingConfig
) -> None:
    assert store.list_models() == []
    first = store.save(model, config)
    second = store.save(model, config)
    assert first.model_id != second.model_id
    listed = store.list_models()
    assert [r.model_id for r in listed] == [first.model_id, second.model_id]
    assert set(listed[0].metrics) == {"logloss", "auc", "accuracy"}


def test_an_unreadable_model_is_skipped_when_listing(
    store: LocalModelStore, model: TrainedModel, config: TrainingConfig
) -> None:
    good = store.save(model, config)
    broken = store.save(model, config)
    Path(broken.path).write_bytes(b"not an archive")
    assert [r.model_id for r in store.list_models()] == [good.model_id]
    with pytest.raises(UserError, match="not a gzip-compressed tar archive"):
        store.get(broken.model_id)


def test_delete(store: LocalModelStore, model: TrainedModel, config: TrainingConfig) -> None:
    kept = store.save(model, config)
    gone = store.save(model, config)
    store.delete(gone.model_id)
    assert [r.model_id for r in store.list_models()] == [kept.model_id]
    assert sorted(p.name for p in store.root.iterdir()) == [kept.model_id]
    with pytest.raises(UnknownModel, match="unknown model"):
        store.delete(gone.model_id)


def test_unknown_and_malformed_ids_are_refused_with_how_to_list(store: LocalModelStore) -> None:
    with pytest.raises(
        UnknownModel, match="unknown model 'goog-store-20240101T000000-abcdef'"
    ) as e:
        store.get("goog-store-20240101T000000-abcdef")
    assert "list_models" in str(e.value)
    assert "streamlines ml models" in str(e.value)
    for bad in ["../../etc", "goog", "goog-store-20240101T000000-ABCDEF", ""]:
        with pytest.raises(UserError, match="is not a model id"):
            store.get(bad)


def test_a_failed_save_leaves_no_model_folder(
    store: LocalModelStore,
    model: TrainedModel,
    config: TrainingConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(artifacts, "_add", fail)
    with pytest.raises(OSError, match="disk full"):
        store.save(model, config)
    assert list(store.root.iterdir()) == []


def test_the_default_root_is_under_the_settings_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMLINES_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STREAMLINES_MODELS_DIR", raising=False)
    assert LocalModelStore.from_settings(Settings()).root == tmp_path / "home" / "models"
    monkeypatch.setenv("STREAMLINES_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert LocalModelStore.from_settings(Settings()).root == tmp_path / "elsewhere"


def test_the_local_store_is_a_model_store(store: LocalModelStore) -> None:
    typed: ModelStore = store  # mypy checks the protocol
    assert typed.list_models() == []


# ------------------------------------------------------------------------------ the S3 store


@pytest.fixture
def s3_settings(tmp_path: Path) -> Iterator[Settings]:
    with moto_endpoint() as url:
        yield Settings(
            aws_endpoint=url,
            model_store="s3",
            models_s3_bucket="narwhal-models-unit",
            models_dir=tmp_path / "cache",
        )


def test_the_s3_store_keeps_the_same_artifact_on_s3_and_reads_it_back(
    s3_settings: Settings, model: TrainedModel, config: TrainingConfig, goog: pd.DataFrame
) -> None:
    store = model_store(s3_settings)
    assert isinstance(store, S3ModelStore)
    record = store.save(model, config)
    assert record.path == f"s3://narwhal-models-unit/narwhal/models/{record.model_id}/model.tar.gz"
    # Another store (another process) with an empty cache finds it on S3 alone.
    fresh = S3ModelStore.from_settings(
        s3_settings.model_copy(update={"models_dir": s3_settings.model_store_dir / "other"})
    )
    assert [r.model_id for r in fresh.list_models()] == [record.model_id]
    loaded = fresh.load(record.model_id)
    np.testing.assert_array_equal(
        predict(loaded, goog),
        model.booster.predict(
            xgb.DMatrix(
                goog[list(model.feature_names)].to_numpy(), feature_names=list(model.feature_names)
            )
        ),
    )
    fresh.delete(record.model_id)
    assert store.list_models() == []
    with pytest.raises(UnknownModel, match="unknown model"):
        fresh.get(record.model_id)
    with pytest.raises(UnknownModel, match="unknown model"):
        fresh.delete(record.model_id)


def test_the_s3_store_refuses_a_malformed_id_before_asking_s3(s3_settings: Settings) -> None:
    with pytest.raises(UserError, match="is not a model id"):
        model_store(s3_settings).get("../etc/passwd")
