"""The SageMaker path on the real local stack: a model trained on real GOOG daily features
through SageMaker's API on the stack's emulator (the compute run by the local runner), its
model.tar.gz downloaded from the emulator's S3 and read with plain xgboost, scores exactly what
Narwhal's own artifact loading and scoring give."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from ml.artifacts import load_artifact, predict, write_artifact
from ml.backends import train_with_backend
from ml.config import parse_config
from ml.sagemaker_runner import split_s3_uri
from streamlines.aws import aws_session
from streamlines.settings import Settings
from streamlines.stack.manager import Stack
from tests.support.ml_matrix import FEATURES, matrix

# Plain xgboost guesses the format of a model file named without an extension (UBJSON).
pytestmark = pytest.mark.filterwarnings("ignore:.*Unknown file format.*:UserWarning")


def test_a_sagemaker_model_scores_with_plain_xgboost_as_narwhal_scores_it(
    stack: Stack, settings: Settings, tmp_path: Path
) -> None:
    goog = matrix(horizon=5)
    config = parse_config(
        {
            "name": "goog-daily-sagemaker",
            "symbols": ["GOOG"],
            "start": "2004-01-01",
            "end": "2014-01-01",
            "features": FEATURES,
            "label": {"kind": "classification", "horizon": 5},
            "hyperparameters": {"max_depth": 3, "eta": 0.05, "num_round": 200},
            "backend": "sagemaker",
        }
    )
    model = train_with_backend(goog, config, settings)
    session = aws_session(settings)

    # The job is on record with the emulator, Completed, pointing at its model.
    job = session.client("sagemaker").describe_training_job(
        TrainingJobName=model.notes["training_job"]
    )
    assert job["TrainingJobStatus"] == "Completed"
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert uri.endswith(f"/output/{job['TrainingJobName']}/output/model.tar.gz")
    assert uri.startswith(f"s3://{settings.sagemaker_bucket}/narwhal/")

    # Its model.tar.gz, from the emulator's S3, read with plain xgboost.
    bucket, key = split_s3_uri(uri)
    archive = tmp_path / "model.tar.gz"
    session.client("s3").download_file(bucket, key, str(archive))
    with tarfile.open(archive, "r:gz") as tar:
        assert tar.getnames() == ["xgboost-model"]
        tar.extractall(tmp_path / "job", filter="data")
    plain = xgb.Booster(model_file=str(tmp_path / "job" / "xgboost-model"))
    plain_scores = plain.predict(xgb.DMatrix(goog[FEATURES].to_numpy(), missing=np.nan))

    # Narwhal's artifact of the same model, loaded and scored its own way.
    stored = load_artifact(write_artifact(model, config, tmp_path / "store"))
    np.testing.assert_array_equal(predict(stored, goog), plain_scores.astype("float64"))
    assert stored.metadata["notes"]["model_artifact"] == uri
    assert len(plain_scores) == len(goog)
    assert np.isfinite(plain_scores).all()
