"""The compute of a SageMaker training job, run here: the built-in XGBoost algorithm's
container contract, followed on this machine for an emulator that records jobs but runs none.

Given a job's description (a DescribeTrainingJob answer), ``run_training_job`` does what the
built-in algorithm's container (``sagemaker-xgboost`` 3.x, algorithm mode) does with CSV input:

- a job directory laid out as the container's ``/opt/ml``: ``input/config/hyperparameters.json``
  (every value a string, as SageMaker passes them), ``input/config/inputdataconfig.json``, and
  ``input/data/<channel>/`` holding the objects under each channel's S3 prefix;
- hyperparameters parsed from their strings by the algorithm's types (an unknown name is
  refused, as the container's validation refuses it; ``num_round`` is required);
- each channel read with xgboost's CSV loader as the container reads it:
  ``DMatrix("<dir>?format=csv&label_column=0&delimiter=<sniffed>")`` (label first, no header,
  an empty field is missing);
- ``xgb.train`` on ``train`` with the watch list train/validation, and, when
  ``early_stopping_rounds`` and ``eval_metric`` are given and there is a validation channel,
  early stopping on the validation channel's last ``eval_metric``, keeping the best model
  (``save_best``);
- ``model/xgboost-model`` written by ``Booster.save_model`` (UBJSON, xgboost's default),
  ``model.tar.gz`` with that file at the archive root, uploaded to
  ``<S3OutputPath>/<job name>/output/model.tar.gz``, where the real service puts it.

What differs from the real container: it runs in this process with the installed xgboost (not
the image's), on one "instance", File input mode only, CSV only, and without the container's
checkpoints, metrics logging and k-fold mode.
"""

from __future__ import annotations

import csv
import json
import logging
import tarfile
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xgboost as xgb

log = logging.getLogger(__name__)

MODEL_FILE = "xgboost-model"
ARTIFACT_NAME = "model.tar.gz"
CSV_CONTENT_TYPES = frozenset({"csv", "text/csv", "text/csv; label_size=1"})
# Metrics early stopping maximises (the container's XGB_MAXIMIZE_METRICS, those that apply).
MAXIMIZE_METRICS = frozenset(
    {"accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "map", "ndcg", "pre", "r2"}
)


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


# The hyperparameters Narwhal sends, by the algorithm's names, and how the container parses
# each from its string.
HYPERPARAMETER_TYPES: dict[str, Callable[[str], Any]] = {
    "num_round": int,
    "early_stopping_rounds": int,
    "max_depth": int,
    "eta": float,
    "gamma": float,
    "min_child_weight": float,
    "subsample": float,
    "colsample_bytree": float,
    "lambda": float,
    "alpha": float,
    "seed": int,
    "objective": str,
    "eval_metric": _comma_list,
    "tree_method": str,
}


class TrainingJobFailed(Exception):
    """The job's compute failed; the message is what SageMaker would give as FailureReason."""


@dataclass(frozen=True)
class JobLayout:
    """The container's ``/opt/ml`` for one job, under ``root``."""

    root: Path

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    @property
    def hyperparameters_file(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def input_data_config_file(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    def channel_dir(self, channel: str) -> Path:
        return self.root / "input" / "data" / channel

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"


def run_training_job(
    description: dict[str, Any], session: Any, work_dir: Path | None = None
) -> str:
    """Run the job ``description`` describes (through ``session``'s S3) and upload its
    ``model.tar.gz``; its S3 URI. ``work_dir`` keeps the job directory (else a temporary one
    is removed afterwards). ``TrainingJobFailed`` with the reason when the compute fails."""
    _check_algorithm(description)
    s3 = session.client("s3")
    if work_dir is not None:
        return _run(description, s3, JobLayout(work_dir))
    with tempfile.TemporaryDirectory(prefix="narwhal-job-") as scratch:
        return _run(description, s3, JobLayout(Path(scratch)))


def _run(description: dict[str, Any], s3: Any, layout: JobLayout) -> str:
    name = description["TrainingJobName"]
    log.info("running training job %s locally (the emulator runs no compute)", name)
    prepare_job_dir(description, s3, layout)
    booster = train_from_job_dir(layout)
    artifact = package_model(layout)
    uri = model_artifact_uri(description)
    bucket, key = split_s3_uri(uri)
    s3.upload_file(str(artifact), bucket, key)
    log.info("training job %s: %d trees, model at %s", name, booster.num_boosted_rounds(), uri)
    return uri


def _check_algorithm(description: dict[str, Any]) -> None:
    image = description.get("AlgorithmSpecification", {}).get("TrainingImage", "")
    if "sagemaker-xgboost" not in image:
        raise TrainingJobFailed(
            f"the local runner emulates only the built-in XGBoost algorithm; the job's image "
            f"is {image or 'not given'}"
        )


# --- the job directory ---------------------------------------------------------------------


def prepare_job_dir(description: dict[str, Any], s3: Any, layout: JobLayout) -> None:
    """Write the config files and download every channel's objects, as SageMaker does before
    the container starts."""
    layout.config_dir.mkdir(parents=True, exist_ok=True)
    hyperparameters = {k: str(v) for k, v in description.get("HyperParameters", {}).items()}
    layout.hyperparameters_file.write_text(json.dumps(hyperparameters, indent=2))
    channels = description.get("InputDataConfig", [])
    config = {
        c["ChannelName"]: {
            "ContentType": c.get("ContentType", ""),
            "TrainingInputMode": description["AlgorithmSpecification"].get(
                "TrainingInputMode", "File"
            ),
            "S3DistributionType": c["DataSource"]["S3DataSource"].get(
                "S3DataDistributionType", "FullyReplicated"
            ),
            "RecordWrapperType": c.get("RecordWrapperType", "None"),
        }
        for c in channels
    }
    layout.input_data_config_file.write_text(json.dumps(config, indent=2))
    for channel in channels:
        _download_channel(s3, channel, layout.channel_dir(channel["ChannelName"]))
    layout.model_dir.mkdir(parents=True, exist_ok=True)
    layout.output_dir.mkdir(parents=True, exist_ok=True)


def _download_channel(s3: Any, channel: dict[str, Any], target: Path) -> None:
    source = channel["DataSource"]["S3DataSource"]
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise TrainingJobFailed(f"channel {channel['ChannelName']}: only S3Prefix data is run here")
    bucket, prefix = split_s3_uri(source["S3Uri"])
    target.mkdir(parents=True, exist_ok=True)
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
        if not item["Key"].endswith("/")
    ]
    if not keys:
        raise TrainingJobFailed(
            f"ClientError: no data in channel {channel['ChannelName']} at {source['S3Uri']}"
        )
    for key in keys:
        relative = key[len(prefix) :].lstrip("/") or Path(key).name
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(path))


# --- training ------------------------------------------------------------------------------


def parse_hyperparameters(raw: dict[str, str]) -> dict[str, Any]:
    """The typed hyperparameters of ``hyperparameters.json``; ``TrainingJobFailed`` naming a
    value that does not parse or a name the algorithm (as emulated here) does not know."""
    unknown = sorted(set(raw) - set(HYPERPARAMETER_TYPES))
    if unknown:
        raise TrainingJobFailed(
            f"ClientError: Hyperparameter validation failed: unknown hyperparameter(s) "
            f"{', '.join(unknown)}"
        )
    if "num_round" not in raw:
        raise TrainingJobFailed(
            "ClientError: Hyperparameter validation failed: num_round is required"
        )
    typed: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            typed[name] = HYPERPARAMETER_TYPES[name](value)
        except ValueError:
            raise TrainingJobFailed(
                f"ClientError: Hyperparameter validation failed: {name}={value!r} is not a "
                f"valid value"
            ) from None
    return typed


def train_from_job_dir(layout: JobLayout) -> xgb.Booster:
    """Train as the container's ``train_job`` does and save ``model/xgboost-model``."""
    params = parse_hyperparameters(json.loads(layout.hyperparameters_file.read_text()))
    _check_content_types(json.loads(layout.input_data_config_file.read_text()))
    train = read_csv_channel(layout.channel_dir("train"))
    validation_dir = layout.channel_dir("validation")
    validation = read_csv_channel(validation_dir) if validation_dir.is_dir() else None
    num_round = params.pop("num_round")
    early_stopping_rounds = params.pop("early_stopping_rounds", None)
    callbacks: list[xgb.callback.TrainingCallback] = []
    metrics = params.get("eval_metric")
    if early_stopping_rounds and metrics and validation is not None:
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=early_stopping_rounds,
                data_name="validation",
                metric_name=metrics[-1],
                maximize=metrics[-1] in MAXIMIZE_METRICS,
                save_best=True,
            )
        )
    watchlist = [(train, "train")]
    if validation is not None:
        watchlist.append((validation, "validation"))
    try:
        booster = xgb.train(
            params,
            train,
            num_boost_round=num_round,
            evals=watchlist,
            callbacks=callbacks,
            verbose_eval=False,
        )
    except xgb.core.XGBoostError as exc:
        raise TrainingJobFailed(
            f"AlgorithmError: XGB train call failed with exception: {exc}"
        ) from None
    layout.model_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The container saves to a name without an extension, as here: xgboost then warns
        # that it picked its default (UBJSON), which is what the container's models are.
        warnings.filterwarnings("ignore", message=".*UBJSON format as default.*")
        booster.save_model(str(layout.model_dir / MODEL_FILE))
    return booster


def _check_content_types(config: dict[str, dict[str, str]]) -> None:
    if "train" not in config:
        raise TrainingJobFailed("ClientError: the job has no `train` channel")
    for channel, spec in config.items():
        content_type = spec.get("ContentType", "").lower()
        if content_type not in CSV_CONTENT_TYPES:
            raise TrainingJobFailed(
                f"ClientError: channel {channel}: ContentType {content_type or 'none'!r} is "
                "not run here (only text/csv)"
            )


def read_csv_channel(directory: Path) -> xgb.DMatrix:
    """A channel's CSV files as the container reads them: label in column 0, no header."""
    files = sorted(p for p in directory.iterdir() if p.is_file())
    if not files:
        raise TrainingJobFailed(f"ClientError: no data in channel path {directory}")
    with files[0].open() as handle:
        first_line = handle.readline()
    try:
        delimiter = csv.Sniffer().sniff(first_line).delimiter
    except csv.Error as exc:
        raise TrainingJobFailed(
            f"ClientError: could not determine the delimiter on line {first_line[:50]!r}: {exc}"
        ) from None
    with warnings.catch_warnings():
        # xgboost 3.1 deprecated its text loader, the one the 3.0 containers read CSV with.
        warnings.filterwarnings("ignore", message=".*Text file input has been deprecated.*")
        try:
            data = xgb.DMatrix(f"{directory}?format=csv&label_column=0&delimiter={delimiter}")
        except xgb.core.XGBoostError as exc:
            raise TrainingJobFailed(f"ClientError: failed to load csv data: {exc}") from None
    if data.num_row() == 0:
        raise TrainingJobFailed(f"ClientError: no rows in channel path {directory}")
    return data


# --- the artifact --------------------------------------------------------------------------


def package_model(layout: JobLayout) -> Path:
    """``output/model.tar.gz``: the model directory's files at the archive root."""
    artifact = layout.output_dir / ARTIFACT_NAME
    layout.output_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(artifact, "w:gz") as tar:
        for path in sorted(layout.model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return artifact


def model_artifact_uri(description: dict[str, Any]) -> str:
    """Where SageMaker puts a job's model: ``<S3OutputPath>/<job name>/output/model.tar.gz``."""
    output = description["OutputDataConfig"]["S3OutputPath"].rstrip("/")
    return f"{output}/{description['TrainingJobName']}/output/{ARTIFACT_NAME}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key)."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise TrainingJobFailed(f"ClientError: {uri!r} is not an s3://bucket/key URI")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key
