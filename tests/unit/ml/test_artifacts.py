"""model.tar.gz: written atomically, read back with identical scores, refused when damaged."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import ml.artifacts as artifacts
from ml.artifacts import (
    FORMAT_VERSION,
    METADATA_FILE,
    MODEL_FILE,
    load_artifact,
    new_model_id,
    predict,
    write_artifact,
)
from ml.config import TrainingConfig, parse_config
from ml.train import TrainedModel, train_local
from streamlines.errors import UserError
from tests.support.ml_matrix import FEATURES, matrix

CONFIG: dict[str, Any] = {
    "name": "goog-artifact",
    "symbols": ["GOOG"],
    "start": "2004-01-01",
    "end": "2014-01-01",
    "features": FEATURES,
    "label": {"kind": "classification", "horizon": 5},
    "hyperparameters": {"max_depth": 3, "eta": 0.3, "num_round": 60},
    "splits": {"folds": 3, "min_train_fraction": 0.6},
}


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return matrix()


@pytest.fixture(scope="module")
def config() -> TrainingConfig:
    return parse_config(CONFIG)


@pytest.fixture(scope="module")
def model(goog: pd.DataFrame, config: TrainingConfig) -> TrainedModel:
    return train_local(goog, config)


@pytest.fixture
def artifact(tmp_path: Path, model: TrainedModel, config: TrainingConfig) -> Path:
    return write_artifact(model, config, tmp_path / "out", model_id="goog-artifact-x")


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def write_tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


# --- round trip ----------------------------------------------------------------------------


def test_round_trip_scores_equal_the_in_memory_booster(
    artifact: Path, model: TrainedModel, goog: pd.DataFrame
) -> None:
    loaded = load_artifact(artifact)
    expected = model.booster.predict(xgb.DMatrix(goog[FEATURES].to_numpy(), feature_names=FEATURES))
    scores = predict(loaded, goog)
    np.testing.assert_array_equal(scores, expected)
    assert loaded.feature_names == tuple(FEATURES)
    assert len(np.unique(scores)) > 10  # a model that learnt something, not a constant


def test_the_archive_is_the_built_in_algorithm_layout(
    artifact: Path, model: TrainedModel, config: TrainingConfig, tmp_path: Path
) -> None:
    files = members(artifact)
    assert set(files) == {MODEL_FILE, METADATA_FILE}
    # Plain xgboost reads the file the way SageMaker's container does (no extension).
    plain = tmp_path / MODEL_FILE
    plain.write_bytes(files[MODEL_FILE])
    booster = xgb.Booster(model_file=str(plain))
    assert booster.num_boosted_rounds() == model.num_round
    assert files[MODEL_FILE][:1] == b"{"  # UBJSON: an object, then a key's length marker
    assert files[MODEL_FILE][1:2] != b'"'
    assert files[MODEL_FILE] == bytes(model.booster.save_raw(raw_format="ubj"))
    metadata = json.loads(files[METADATA_FILE])
    assert metadata["sha256"] == hashlib.sha256(files[MODEL_FILE]).hexdigest()
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["model_id"] == "goog-artifact-x"
    assert metadata["feature_names"] == FEATURES
    assert metadata["config"] == config.to_json()
    assert metadata["xgboost_version"] == xgb.__version__
    assert metadata["objective"] == "binary:logistic"
    assert metadata["metrics"]["mean"] == pytest.approx(model.mean_metrics)
    assert len(metadata["metrics"]["folds"]) == 3
    assert metadata["importance"] == pytest.approx(model.importance)
    assert metadata["data_range"]["rows"] == model.data_range.rows
    assert "best_iteration" in metadata["notes"]["num_round"]
    assert datetime.fromisoformat(metadata["created_at"]).tzinfo is not None


def test_new_model_ids() -> None:
    now = datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)
    model_id = new_model_id("goog-daily", now)
    assert model_id.startswith("goog-daily-20240305T140709-")
    assert len(model_id.rsplit("-", 1)[1]) == 6
    assert new_model_id("goog-daily", now) != model_id


def test_a_sagemaker_artifact_with_only_xgboost_model_loads_with_feature_names(
    tmp_path: Path, goog: pd.DataFrame
) -> None:
    # As the built-in algorithm trains: CSV columns without names, UBJSON to `xgboost-model`.
    labelled = goog.dropna(subset=["label"])
    train = xgb.DMatrix(labelled[FEATURES].to_numpy(), label=labelled["label"].to_numpy())
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, train, 15)
    model_dir = tmp_path / "opt-ml-model"
    model_dir.mkdir()
    booster.save_model(str(model_dir / "xgboost-model.ubj"))
    data = (model_dir / "xgboost-model.ubj").read_bytes()
    for name in (MODEL_FILE, f"./{MODEL_FILE}"):
        path = write_tar(tmp_path / "model.tar.gz", {name: data})
        loaded = load_artifact(path, feature_names=FEATURES)
        expected = booster.predict(xgb.DMatrix(goog[FEATURES].to_numpy()))
        np.testing.assert_array_equal(predict(loaded, goog), expected)
        assert loaded.metadata == {}
    with pytest.raises(UserError, match="feature names are unknown"):
        load_artifact(path)
    with pytest.raises(UserError, match="6 features but 5 feature names"):
        load_artifact(path, feature_names=FEATURES[:5])


def test_predict_takes_features_by_name(artifact: Path, goog: pd.DataFrame) -> None:
    loaded = load_artifact(artifact)
    shuffled = goog[["label", *reversed(FEATURES), "time", "symbol"]]
    np.testing.assert_array_equal(predict(loaded, shuffled), predict(loaded, goog))


def test_predict_refuses_a_matrix_missing_a_feature(artifact: Path, goog: pd.DataFrame) -> None:
    with pytest.raises(UserError, match="ret_10"):
        predict(load_artifact(artifact), goog.drop(columns=["ret_10"]))


# --- refusals ------------------------------------------------------------------------------


def corrupt(artifact: Path, change: Any) -> Path:
    """The artifact with its files changed by ``change(files) -> files``."""
    files = change(members(artifact))
    return write_tar(artifact.with_name("corrupt.tar.gz"), files)


def with_metadata(**changes: Any) -> Any:
    def change(files: dict[str, bytes]) -> dict[str, bytes]:
        metadata = json.loads(files[METADATA_FILE])
        for key, value in changes.items():
            if value is None:
                metadata.pop(key)
            else:
                metadata[key] = value
        return {**files, METADATA_FILE: json.dumps(metadata).encode()}

    return change


def test_not_a_gzip_tar_is_refused(tmp_path: Path, artifact: Path) -> None:
    for name, data in {
        "random.tar.gz": np.random.default_rng(0).bytes(4096),
        "text.tar.gz": gzip.compress(b"just text, not a tar archive" * 40),
        "truncated.tar.gz": artifact.read_bytes()[:300],
        "empty.tar.gz": b"",
    }.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UserError, match="not a gzip-compressed tar archive"):
            load_artifact(tmp_path / name)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no model artifact"):
        load_artifact(tmp_path / "nope.tar.gz")


def test_an_archive_without_xgboost_model_is_refused(artifact: Path) -> None:
    path = corrupt(artifact, lambda f: {METADATA_FILE: f[METADATA_FILE], "model.json": b"{}"})
    with pytest.raises(UserError, match=r"no `xgboost-model` at the archive root.*model\.json"):
        load_artifact(path)
    nested = corrupt(artifact, lambda f: {f"model/{MODEL_FILE}": f[MODEL_FILE]})
    with pytest.raises(UserError, match="no `xgboost-model` at the archive root"):
        load_artifact(nested)


def test_metadata_that_is_not_json_is_refused(artifact: Path) -> None:
    path = corrupt(artifact, lambda f: {**f, METADATA_FILE: b"{not json"})
    with pytest.raises(UserError, match=r"metadata\.json` is not JSON"):
        load_artifact(path)
    listed = corrupt(artifact, lambda f: {**f, METADATA_FILE: b"[1, 2]"})
    with pytest.raises(UserError, match="not a JSON object"):
        load_artifact(listed)


@pytest.mark.parametrize("field", ["feature_names", "sha256", "model_id", "xgboost_version"])
def test_metadata_missing_a_field_is_refused_naming_it(artifact: Path, field: str) -> None:
    path = corrupt(artifact, with_metadata(**{field: None}))
    with pytest.raises(UserError, match=f"invalid: {field}"):
        load_artifact(path)


def test_empty_feature_names_are_refused(artifact: Path) -> None:
    with pytest.raises(UserError, match="feature_names"):
        load_artifact(corrupt(artifact, with_metadata(feature_names=[])))


def test_a_checksum_mismatch_is_refused(artifact: Path) -> None:
    def tamper(files: dict[str, bytes]) -> dict[str, bytes]:
        data = bytearray(files[MODEL_FILE])
        data[-10] ^= 0x01
        return {**files, MODEL_FILE: bytes(data)}

    with pytest.raises(UserError, match="checksum mismatch"):
        load_artifact(corrupt(artifact, tamper))


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_an_unknown_format_version_is_refused(artifact: Path, version: Any) -> None:
    change = (
        with_metadata(format_version=version)
        if version is not None
        else with_metadata(format_version=None)
    )
    with pytest.raises(UserError, match=r"format_version .* is unknown"):
        load_artifact(corrupt(artifact, change))


def test_a_newer_xgboost_major_version_is_refused(artifact: Path) -> None:
    major = int(xgb.__version__.split(".")[0])
    newer = corrupt(artifact, with_metadata(xgboost_version=f"{major + 1}.0.0"))
    with pytest.raises(UserError, match=f"written by xgboost {major + 1}.0.0") as raised:
        load_artifact(newer)
    assert f"xgboost>={major + 1}" in str(raised.value)
    older = corrupt(artifact, with_metadata(xgboost_version="2.1.4"))
    assert load_artifact(older).feature_names == tuple(FEATURES)


def rehashed(model_bytes: bytes) -> Any:
    def change(files: dict[str, bytes]) -> dict[str, bytes]:
        metadata = json.loads(files[METADATA_FILE])
        metadata["sha256"] = hashlib.sha256(model_bytes).hexdigest()
        return {MODEL_FILE: model_bytes, METADATA_FILE: json.dumps(metadata).encode()}

    return change


def test_the_old_binary_format_is_refused_with_the_reason(artifact: Path) -> None:
    # The old format (xgboost < 2.1 without a file extension) starts with its parameters,
    # not with "{"; with a matching checksum only the format is wrong.
    old = b"binf" + bytes(range(200))
    with pytest.raises(UserError, match="older binary format") as raised:
        load_artifact(corrupt(artifact, rehashed(old)))
    assert "3.0-5" in str(raised.value)


def test_a_model_xgboost_cannot_read_is_refused(artifact: Path) -> None:
    with pytest.raises(UserError, match="xgboost cannot read `xgboost-model`"):
        load_artifact(corrupt(artifact, rehashed(b'{"learner": "nothing here"}')))


def test_feature_names_that_differ_from_the_metadata_are_refused(artifact: Path) -> None:
    with pytest.raises(UserError, match="differ from the model's"):
        load_artifact(artifact, feature_names=list(reversed(FEATURES)))
    assert load_artifact(artifact, feature_names=FEATURES).feature_names == tuple(FEATURES)


# --- atomic write --------------------------------------------------------------------------


def failing_after(calls: int, real: Any) -> Any:
    seen = {"n": 0}

    def add(*args: Any, **kwargs: Any) -> None:
        seen["n"] += 1
        if seen["n"] > calls:
            raise OSError("disk full (simulated)")
        real(*args, **kwargs)

    return add


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, model: TrainedModel, config: TrainingConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "model"
    monkeypatch.setattr(artifacts, "_add", failing_after(1, artifacts._add))
    with pytest.raises(OSError, match="disk full"):
        write_artifact(model, config, directory)
    assert list(directory.iterdir()) == []


def test_a_failed_rewrite_keeps_the_earlier_artifact(
    tmp_path: Path, model: TrainedModel, config: TrainingConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "model"
    path = write_artifact(model, config, directory)
    before = path.read_bytes()
    monkeypatch.setattr(artifacts, "_add", failing_after(1, artifacts._add))
    with pytest.raises(OSError, match="disk full"):
        write_artifact(model, config, directory)
    assert [p.name for p in directory.iterdir()] == ["model.tar.gz"]
    assert path.read_bytes() == before
    assert load_artifact(path).feature_names == tuple(FEATURES)
