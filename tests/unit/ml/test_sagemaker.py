"""The SageMaker training path on real GOOG daily features, against moto (the emulator the
local stack runs) in this process: the S3 channels, the job record, the model it produces,
checked with computations of the test's own; and each error a user can meet."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from ml.artifacts import load_artifact, predict, write_artifact
from ml.backends import train_with_backend
from ml.config import TrainingConfig, parse_config
from ml.sagemaker import (
    algorithm_hyperparameters,
    as_strings,
    channel_csv,
    job_name,
    train_sagemaker,
    training_image,
    wait_for_job,
)
from ml.train import TrainedModel, train_local
from streamlines.aws import aws_session
from streamlines.child import free_port
from streamlines.errors import UserError
from streamlines.settings import Settings
from tests.support.ml_matrix import FEATURES, matrix
from tests.support.moto_server import moto_endpoint

HORIZON = 5
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"


def config(**overrides: Any) -> TrainingConfig:
    data: dict[str, Any] = {
        "name": "goog_daily.sm",
        "symbols": ["GOOG"],
        "start": "2004-01-01",
        "end": "2014-01-01",
        "features": FEATURES,
        "label": {"kind": "classification", "horizon": HORIZON},
        "hyperparameters": {"max_depth": 3, "eta": 0.1, "num_round": 300, "seed": 3},
        "splits": {"folds": 4, "min_train_fraction": 0.5},
        "backend": "sagemaker",
    }
    data.update(overrides)
    return parse_config(data)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Settings]:
    with moto_endpoint() as url:
        yield Settings(aws_endpoint=url, sagemaker_bucket="narwhal-unit")


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return matrix(horizon=HORIZON)


@pytest.fixture(scope="module")
def trained(goog: pd.DataFrame, emulator: Settings) -> TrainedModel:
    return train_sagemaker(goog, config(), emulator, poll_seconds=0.01)


def _expected_split(goog: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last walk-forward block of 4 after the first half of the labelled days, and every
    day before it less the last ``HORIZON`` (one GOOG row per day)."""
    labelled = goog[goog["label"].notna()].reset_index(drop=True)
    days = labelled["time"]
    n = len(days)
    first_validation = round(n // 2 + (n - n // 2) * 3 / 4)
    validation = labelled.iloc[first_validation:]
    train = labelled.iloc[: first_validation - HORIZON]
    return train, validation


def _s3_csv(settings: Settings, key: str) -> pd.DataFrame:
    body = aws_session(settings).client("s3").get_object(Bucket="narwhal-unit", Key=key)["Body"]
    return pd.read_csv(io.BytesIO(body.read()), header=None, dtype="float32")


def _describe(settings: Settings, name: str) -> dict[str, Any]:
    return aws_session(settings).client("sagemaker").describe_training_job(TrainingJobName=name)


# --- the S3 channels and the job record ----------------------------------------------------


def test_the_channels_are_the_last_block_and_the_purged_rows_before_it(
    trained: TrainedModel, goog: pd.DataFrame, emulator: Settings
) -> None:
    prefix = trained.notes["data"].removeprefix("s3://narwhal-unit/")
    train, validation = _expected_split(goog)
    for channel, rows in (("train", train), ("validation", validation)):
        sent = _s3_csv(emulator, f"{prefix}{channel}/{channel}.csv")
        assert sent.shape == (len(rows), 1 + len(FEATURES))
        np.testing.assert_array_equal(sent[0].to_numpy(), rows["label"].to_numpy("float32"))
        np.testing.assert_array_equal(
            sent.iloc[:, 1:].to_numpy(), rows[FEATURES].to_numpy("float32")
        )
    # No training label looks into the validation block: the close HORIZON days after the
    # last training day is before the block's first day.
    days = list(goog["time"])
    label_end = days[days.index(train["time"].iloc[-1]) + HORIZON]
    assert label_end < validation["time"].iloc[0]
    assert trained.folds[0].validation_first == validation["time"].iloc[0]
    assert trained.folds[0].train_rows == len(train)


def test_the_job_record_holds_the_algorithms_own_names_and_the_layout(
    trained: TrainedModel, emulator: Settings
) -> None:
    job = _describe(emulator, trained.notes["training_job"])
    assert job["TrainingJobStatus"] == "Completed"
    assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert job["RoleArn"] == emulator.sagemaker_role_arn
    assert job["ResourceConfig"]["InstanceType"] == "ml.m5.large"
    assert job["HyperParameters"] == {
        "num_round": "300", "max_depth": "3", "eta": "0.1", "gamma": "0.0",
        "min_child_weight": "1.0", "subsample": "1.0", "colsample_bytree": "1.0",
        "lambda": "1.0", "alpha": "0.0", "seed": "3", "tree_method": "hist",
        "objective": "binary:logistic", "eval_metric": "logloss", "early_stopping_rounds": "20",
    }  # fmt: skip
    prefix = f"s3://narwhal-unit/narwhal/{trained.notes['data'].split('/')[4]}"
    assert [
        (c["ChannelName"], c["ContentType"], c["DataSource"]["S3DataSource"]["S3Uri"])
        for c in job["InputDataConfig"]
    ] == [
        ("train", "text/csv", f"{prefix}/data/train/"),
        ("validation", "text/csv", f"{prefix}/data/validation/"),
    ]
    assert job["OutputDataConfig"]["S3OutputPath"] == f"{prefix}/output/"
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"{prefix}/output/{job['TrainingJobName']}/output/model.tar.gz"
    assert trained.notes["model_artifact"] == artifact


# --- the model -----------------------------------------------------------------------------


def test_the_model_is_xgboost_trained_on_the_channels_with_early_stopping(
    trained: TrainedModel, goog: pd.DataFrame
) -> None:
    train, validation = _expected_split(goog)
    dtrain = xgb.DMatrix(train[FEATURES].to_numpy(), label=train["label"], missing=np.nan)
    dvalid = xgb.DMatrix(validation[FEATURES].to_numpy(), label=validation["label"])
    params = {"max_depth": 3, "eta": 0.1, "seed": 3, "objective": "binary:logistic",
              "eval_metric": "logloss", "tree_method": "hist"}  # fmt: skip
    direct = xgb.train(params, dtrain, 300, evals=[(dtrain, "train"), (dvalid, "validation")],
                       early_stopping_rounds=20, verbose_eval=False)  # fmt: skip
    kept = direct.best_iteration + 1
    assert trained.num_round == kept
    x = xgb.DMatrix(validation[FEATURES].to_numpy(), missing=np.nan, feature_names=FEATURES)
    np.testing.assert_array_equal(
        trained.booster.predict(x), direct.predict(dvalid, iteration_range=(0, kept))
    )


def test_the_metrics_are_the_validation_blocks(trained: TrainedModel, goog: pd.DataFrame) -> None:
    _, validation = _expected_split(goog)
    y = validation["label"].to_numpy()
    x = xgb.DMatrix(validation[FEATURES].to_numpy(), missing=np.nan, feature_names=FEATURES)
    p = trained.booster.predict(x).astype("float64")
    logloss = -np.mean(np.where(y == 1, np.log(p), np.log(1 - p)))
    # AUC as the share of (positive, negative) pairs ranked right, ties counting half.
    diff = p[y == 1][:, None] - p[y == 0][None, :]
    auc = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
    metrics = trained.folds[0].metrics
    assert metrics["logloss"] == pytest.approx(logloss, rel=1e-12)
    assert metrics["auc"] == pytest.approx(auc, rel=1e-12)
    assert metrics["accuracy"] == pytest.approx(np.mean((p > 0.5) == (y == 1)), rel=1e-12)
    assert trained.mean_metrics == metrics


def test_the_store_keeps_it_in_the_one_artifact_format(
    trained: TrainedModel, goog: pd.DataFrame, tmp_path: Path
) -> None:
    path = write_artifact(trained, config(), tmp_path)
    loaded = load_artifact(path)
    assert loaded.metadata["notes"]["backend"] == "sagemaker"
    assert loaded.metadata["config"]["backend"] == "sagemaker"
    x = xgb.DMatrix(goog[FEATURES].to_numpy(), missing=np.nan, feature_names=FEATURES)
    np.testing.assert_array_equal(predict(loaded, goog), trained.booster.predict(x))


def test_train_with_backend_picks_the_configs_backend(
    goog: pd.DataFrame, emulator: Settings
) -> None:
    small = {"num_round": 30, "max_depth": 2, "early_stopping_rounds": None}
    remote = train_with_backend(goog, config(hyperparameters=small), emulator)
    assert remote.notes["backend"] == "sagemaker"
    assert remote.num_round == 30  # no early stopping: every round kept
    local_config = config(hyperparameters=small, backend="local")
    local = train_with_backend(goog, local_config, emulator)
    direct = train_local(goog, local_config)
    x = xgb.DMatrix(goog[FEATURES].to_numpy(), missing=np.nan, feature_names=FEATURES)
    np.testing.assert_array_equal(local.booster.predict(x), direct.booster.predict(x))
    assert "backend" not in local.notes


# --- names and formats ---------------------------------------------------------------------


def test_job_names_are_what_sagemaker_accepts() -> None:
    for model_id in ("goog_daily.sm-20260101T000000-abcdef", f"{'x' * 64}-20260101T000000-abcdef"):
        name = job_name(model_id)
        assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name), name
        assert name.endswith("-20260101T000000-abcdef")
    assert job_name("a.b_c-20260101T000000-abcdef") == "a-b-c-20260101T000000-abcdef"


def test_hyperparameter_strings_read_back_to_the_same_numbers() -> None:
    hp = {"eta": 0.1 + 0.2, "lambda": 1e-7, "alpha": 3.0, "num_round": 7}
    strings = as_strings(hp)
    assert float(strings["eta"]) == hp["eta"]
    assert float(strings["lambda"]) == hp["lambda"]
    assert strings["num_round"] == "7"
    names = set(algorithm_hyperparameters(config()))
    assert names == {"num_round", "max_depth", "eta", "gamma", "min_child_weight", "subsample",
                     "colsample_bytree", "lambda", "alpha", "objective", "eval_metric",
                     "early_stopping_rounds", "seed", "tree_method"}  # fmt: skip


def test_channel_csv_is_label_first_without_header(goog: pd.DataFrame) -> None:
    rows = goog.iloc[:30]  # the first rows: features still unknown (NaN) for the long lags
    lines = channel_csv(rows, FEATURES).decode().splitlines()
    assert len(lines) == 30
    first = lines[0].split(",")
    assert first[0] == str(np.float32(rows["label"].iloc[0]))
    assert first[1 + FEATURES.index("ret_20")] == ""  # NaN: an empty field
    assert float(first[1 + FEATURES.index("range_rel")]) == np.float32(rows["range_rel"].iloc[0])


# --- errors --------------------------------------------------------------------------------


def test_an_emulator_that_is_down_says_how_to_start_it(goog: pd.DataFrame) -> None:
    settings = Settings(aws_endpoint=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UserError, match="cannot reach the AWS emulator") as caught:
        train_sagemaker(goog, config(), settings)
    assert "streamlines stack up aws" in str(caught.value.hint)


def test_real_aws_needs_a_real_role(goog: pd.DataFrame) -> None:
    with pytest.raises(UserError, match="role") as caught:
        train_sagemaker(goog, config(), Settings(aws_endpoint="aws"))
    assert "STREAMLINES_SAGEMAKER_ROLE_ARN" in str(caught.value.hint)


def test_image_versions_whose_models_cannot_be_read_are_refused() -> None:
    assert training_image(Settings(sagemaker_xgboost_version="3.0-5")) == IMAGE
    with pytest.raises(UserError, match=r"before 3\.0"):
        training_image(Settings(sagemaker_xgboost_version="1.7-1"))
    with pytest.raises(UserError, match=r"no SageMaker XGBoost image 9\.9-9"):
        training_image(Settings(sagemaker_xgboost_version="9.9-9"))


class FakeJob:
    """A TrainingJob as DescribeTrainingJob answers it, one status per refresh."""

    def __init__(self, statuses: list[str], failure_reason: Any = None) -> None:
        self.training_job_name = "job-x"
        self.statuses = statuses
        self.training_job_status = statuses[0]
        self.secondary_status = "Training"
        self.failure_reason = failure_reason
        self.refreshes = 0

    def refresh(self) -> FakeJob:
        self.refreshes += 1
        self.training_job_status = self.statuses[min(self.refreshes, len(self.statuses) - 1)]
        return self


def test_polling_waits_until_the_job_completes() -> None:
    job = FakeJob(["InProgress", "InProgress", "Completed"])
    wait_for_job(job, timeout=5, poll_seconds=0.001)
    assert job.refreshes == 2


def test_a_failed_job_gives_its_failure_reason() -> None:
    job = FakeJob(["InProgress", "Failed"], "AlgorithmError: num_round must be an integer")
    with pytest.raises(UserError, match="job-x failed: Failed: AlgorithmError: num_round"):
        wait_for_job(job, timeout=5, poll_seconds=0.001)


def test_a_stopped_job_is_an_error() -> None:
    with pytest.raises(UserError, match="job-x failed: Stopped: no reason given"):
        wait_for_job(FakeJob(["Stopping", "Stopped"]), timeout=5, poll_seconds=0.001)


def test_a_job_that_never_ends_times_out() -> None:
    with pytest.raises(UserError, match=r"did not finish within 0s \(last status: InProgress\)"):
        wait_for_job(FakeJob(["InProgress"]), timeout=0.05, poll_seconds=0.01)
