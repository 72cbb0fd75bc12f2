"""The local runner of SageMaker's built-in XGBoost on real GOOG daily features: a job directory
in the container's layout, trained as the container trains, compared with xgboost trained on
the same numbers directly (its own early-stopping argument, arrays rather than CSV files)."""

from __future__ import annotations

import json
import math
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from ml.sagemaker_runner import (
    JobLayout,
    TrainingJobFailed,
    model_artifact_uri,
    package_model,
    parse_hyperparameters,
    run_training_job,
    split_s3_uri,
    train_from_job_dir,
)
from streamlines.aws import aws_session
from streamlines.settings import Settings
from tests.support.ml_matrix import FEATURES, matrix
from tests.support.moto_server import moto_endpoint

# Plain xgboost guesses the format of a model file named without an extension (UBJSON).
pytestmark = pytest.mark.filterwarnings("ignore:.*Unknown file format.*:UserWarning")

SPLIT = pd.Timestamp("2011-01-01", tz="UTC")
END = pd.Timestamp("2012-07-01", tz="UTC")


def _csv_text(rows: pd.DataFrame) -> str:
    """Label first, then the features; no header; each value the float32 xgboost trains on,
    written as the exact decimal of that float32; an empty field for NaN."""
    lines = []
    for values in rows[["label", *FEATURES]].to_numpy(dtype="float64"):
        fields = ["" if math.isnan(v) else repr(float(np.float32(v))) for v in values]
        lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


def _split(kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = matrix(kind=kind, horizon=5)
    data = data[data["label"].notna() & (data["time"] < END)]
    # Five trading days purged before the validation block: no label looks into it.
    train = data[data["time"] < SPLIT].iloc[:-5]
    return train, data[data["time"] >= SPLIT]


def _job_dir(root: Path, hyperparameters: dict[str, str], kind: str) -> JobLayout:
    layout = JobLayout(root)
    layout.config_dir.mkdir(parents=True)
    layout.hyperparameters_file.write_text(json.dumps(hyperparameters))
    channels = {"train": {"ContentType": "text/csv"}, "validation": {"ContentType": "text/csv"}}
    layout.input_data_config_file.write_text(json.dumps(channels))
    for name, rows in zip(("train", "validation"), _split(kind), strict=True):
        layout.channel_dir(name).mkdir(parents=True)
        (layout.channel_dir(name) / f"{name}.csv").write_text(_csv_text(rows))
    return layout


def _direct(kind: str, params: dict[str, Any], rounds: int, stopping: int) -> xgb.Booster:
    """xgboost on the same rows from arrays, with xgb.train's own early-stopping argument."""
    train, validation = _split(kind)
    dtrain = xgb.DMatrix(train[FEATURES].to_numpy(), label=train["label"], missing=np.nan)
    dvalid = xgb.DMatrix(validation[FEATURES].to_numpy(), label=validation["label"])
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=rounds,
        evals=[(dtrain, "train"), (dvalid, "validation")],
        early_stopping_rounds=stopping,
        verbose_eval=False,
    )
    assert booster.num_boosted_rounds() < rounds  # early stopping did stop it
    return booster[: booster.best_iteration + 1]


def _validation_x(kind: str) -> xgb.DMatrix:
    return xgb.DMatrix(_split(kind)[1][FEATURES].to_numpy(), missing=np.nan)


CASES = [
    ("classification", "binary:logistic", "logloss"),
    ("classification", "binary:logistic", "auc"),  # a metric early stopping maximises
    ("regression", "reg:squarederror", "rmse"),
]


@pytest.mark.parametrize(("kind", "objective", "metric"), CASES)
def test_the_runner_trains_what_xgboost_trains_on_the_same_rows(
    tmp_path: Path, kind: str, objective: str, metric: str
) -> None:
    strings = {
        "num_round": "400",
        "max_depth": "3",
        "eta": "0.1",
        "subsample": "0.8",
        "colsample_bytree": "0.9",
        "lambda": "1.5",
        "alpha": "0.01",
        "min_child_weight": "2.0",
        "gamma": "0.0",
        "seed": "7",
        "tree_method": "hist",
        "objective": objective,
        "eval_metric": metric,
        "early_stopping_rounds": "15",
    }
    layout = _job_dir(tmp_path, strings, kind)
    booster = train_from_job_dir(layout)

    typed = {
        "max_depth": 3, "eta": 0.1, "subsample": 0.8, "colsample_bytree": 0.9, "lambda": 1.5,
        "alpha": 0.01, "min_child_weight": 2.0, "gamma": 0.0, "seed": 7, "tree_method": "hist",
        "objective": objective, "eval_metric": [metric],
    }  # fmt: skip
    reference = _direct(kind, typed, rounds=400, stopping=15)
    assert booster.num_boosted_rounds() == reference.num_boosted_rounds()
    x = _validation_x(kind)
    np.testing.assert_array_equal(booster.predict(x), reference.predict(x))

    # The saved model: xgboost-model (UBJSON), readable by plain xgboost, the same trees.
    saved = layout.model_dir / "xgboost-model"
    assert saved.read_bytes()[:1] == b"{"
    np.testing.assert_array_equal(
        xgb.Booster(model_file=str(saved)).predict(x), reference.predict(x)
    )


def test_without_early_stopping_every_round_is_kept(tmp_path: Path) -> None:
    strings = {"num_round": "25", "max_depth": "2", "objective": "binary:logistic"}
    layout = _job_dir(tmp_path, strings, "classification")
    assert train_from_job_dir(layout).num_boosted_rounds() == 25


def test_the_archive_holds_the_model_file_at_its_root(tmp_path: Path) -> None:
    layout = _job_dir(
        tmp_path, {"num_round": "5", "objective": "binary:logistic"}, "classification"
    )
    train_from_job_dir(layout)
    artifact = package_model(layout)
    with tarfile.open(artifact, "r:gz") as tar:
        assert tar.getnames() == ["xgboost-model"]
        member = tar.extractfile("xgboost-model")
        assert member is not None
        assert member.read() == (layout.model_dir / "xgboost-model").read_bytes()


def test_hyperparameters_are_parsed_from_strings_by_the_algorithm_types() -> None:
    typed = parse_hyperparameters(
        {"num_round": "10", "eta": "0.05", "lambda": "2", "eval_metric": "auc,logloss"}
    )
    assert typed == {"num_round": 10, "eta": 0.05, "lambda": 2.0, "eval_metric": ["auc", "logloss"]}
    assert isinstance(typed["lambda"], float)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"num_round": "10", "max_dept": "3"}, "max_dept"),
        ({"num_round": "ten"}, "num_round='ten'"),
        ({"eta": "0.1"}, "num_round is required"),
    ],
)
def test_bad_hyperparameters_fail_the_job_naming_them(raw: dict[str, str], named: str) -> None:
    with pytest.raises(TrainingJobFailed, match=named):
        parse_hyperparameters(raw)


def test_a_channel_that_is_not_csv_fails_the_job(tmp_path: Path) -> None:
    layout = _job_dir(tmp_path, {"num_round": "5"}, "classification")
    layout.input_data_config_file.write_text(json.dumps({"train": {"ContentType": "libsvm"}}))
    with pytest.raises(TrainingJobFailed, match="libsvm"):
        train_from_job_dir(layout)


def test_an_empty_channel_fails_the_job(tmp_path: Path) -> None:
    layout = _job_dir(tmp_path, {"num_round": "5"}, "classification")
    (layout.channel_dir("train") / "train.csv").unlink()
    with pytest.raises(TrainingJobFailed, match="no data in channel"):
        train_from_job_dir(layout)


def test_model_artifact_uri_is_the_services_layout() -> None:
    description = {"TrainingJobName": "j-1", "OutputDataConfig": {"S3OutputPath": "s3://b/p/"}}
    assert model_artifact_uri(description) == "s3://b/p/j-1/output/model.tar.gz"
    assert split_s3_uri("s3://b/p/j-1/output/model.tar.gz") == ("b", "p/j-1/output/model.tar.gz")
    with pytest.raises(TrainingJobFailed, match="not an s3"):
        split_s3_uri("https://b/p")


# --- a whole job through an emulator's S3 and job record -----------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[Settings]:
    with moto_endpoint() as url:
        yield Settings(aws_endpoint=url)


def _create_job(session: Any, name: str, image: str, hyperparameters: dict[str, str]) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="runner-test")
    for channel, rows in zip(("train", "validation"), _split("classification"), strict=True):
        s3.put_object(Bucket="runner-test", Key=f"{name}/data/{channel}/part-0.csv",
                      Body=_csv_text(rows).encode())  # fmt: skip
    session.client("sagemaker").create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/test",
        HyperParameters=hyperparameters,
        InputDataConfig=[
            {
                "ChannelName": channel,
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://runner-test/{name}/data/{channel}/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for channel in ("train", "validation")
        ],
        OutputDataConfig={"S3OutputPath": f"s3://runner-test/{name}/output/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )


def test_a_recorded_job_runs_and_its_model_lands_where_the_record_points(
    emulator: Settings, tmp_path: Path
) -> None:
    session = aws_session(emulator)
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
    strings = {"num_round": "300", "max_depth": "3", "eta": "0.1", "objective": "binary:logistic",
               "eval_metric": "logloss", "early_stopping_rounds": "10", "seed": "0"}  # fmt: skip
    _create_job(session, "runner-job-1", image, strings)
    description = session.client("sagemaker").describe_training_job(TrainingJobName="runner-job-1")

    uri = run_training_job(description, session, work_dir=tmp_path / "job")

    assert uri == description["ModelArtifacts"]["S3ModelArtifacts"]
    hyperparameters = json.loads((tmp_path / "job/input/config/hyperparameters.json").read_text())
    assert hyperparameters == strings
    assert all(isinstance(v, str) for v in hyperparameters.values())
    assert (tmp_path / "job/input/data/validation/part-0.csv").read_text() == _csv_text(
        _split("classification")[1]
    )
    bucket, key = split_s3_uri(uri)
    archive = tmp_path / "model.tar.gz"
    session.client("s3").download_file(bucket, key, str(archive))
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(tmp_path / "extracted", filter="data")
    booster = xgb.Booster(model_file=str(tmp_path / "extracted" / "xgboost-model"))
    typed = {"max_depth": 3, "eta": 0.1, "objective": "binary:logistic",
             "eval_metric": ["logloss"], "seed": 0}  # fmt: skip
    reference = _direct("classification", typed, rounds=300, stopping=10)
    x = _validation_x("classification")
    np.testing.assert_array_equal(booster.predict(x), reference.predict(x))


def test_a_job_of_another_algorithm_is_not_run(emulator: Settings) -> None:
    session = aws_session(emulator)
    _create_job(session, "runner-job-2", "123.dkr.ecr.us-east-1.amazonaws.com/other:1", {})
    description = session.client("sagemaker").describe_training_job(TrainingJobName="runner-job-2")
    with pytest.raises(TrainingJobFailed, match="only the built-in XGBoost"):
        run_training_job(description, session)
