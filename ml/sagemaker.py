"""SageMaker training: Amazon SageMaker's built-in XGBoost algorithm through the `sagemaker` SDK.

``train_sagemaker(matrix, config, settings)``:

1. cuts the labelled rows of the matrix as walk-forward validation does
   (``ml.train.walk_forward_splits``): the validation channel is the last block, the train
   channel every row before it less the last ``horizon`` bar times (their labels would look
   into the block);
2. writes both as CSV (label first, no header, float32 as xgboost stores them, an empty field
   where a feature is unknown) to ``s3://<bucket>/narwhal/<model id>/data/{train,validation}/``;
3. creates the training job with ``sagemaker.core.resources.TrainingJob.create``: the image
   from ``sagemaker.core.image_uris.retrieve("xgboost", region, version)``, the algorithm's
   own hyperparameter names (``num_round``, ``eta``, ``lambda``...; strings, as SageMaker
   passes them), channels ``train``/``validation`` (``text/csv``), output
   ``s3://<bucket>/narwhal/<model id>/output/``;
4. polls the job (``TrainingJob.refresh``: DescribeTrainingJob) until Completed, Failed or
   Stopped, logging its status, up to ``sagemaker_timeout`` seconds;
5. downloads the job's ``ModelArtifacts.S3ModelArtifacts`` (``model.tar.gz``), loads it with
   ``ml.artifacts.load_artifact`` and returns a ``TrainedModel`` whose metrics are computed
   here on the validation block, so the model store keeps the one artifact format.

The SDK's resources take a boto3 session, not an endpoint: the session from
``aws_session(settings)`` sends every client it makes to ``settings.aws_endpoint_url``, so the
same SDK calls go to real AWS or to the local stack's emulator.

**Real and emulated.** Against the emulator (moto, service ``aws`` of the local stack) the SDK
calls, the HTTP requests, the S3 objects (the CSV channels, ``model.tar.gz``), the training
job's record (its name, image, hyperparameters, channels, output path, status and
``ModelArtifacts``) and the artifact's layout are real. The training compute is emulated:
moto runs no container and records a new job as Completed at once, pointing at
``<output path>/<job name>/output/model.tar.gz`` before anything is there. So, only when the
endpoint is an emulator, ``ml.sagemaker_runner`` runs the job's compute right after
CreateTrainingJob, from the job's own description (its hyperparameters.json, channels read
from S3, the container's CSV reading, early stopping and model directory), and uploads
``model.tar.gz`` where the record points; the polling then reads the record's status as it
would on AWS. On real AWS, SageMaker runs the container and nothing runs here.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from sagemaker.core import image_uris
from sagemaker.core.resources import TrainingJob
from sagemaker.core.shapes import (
    AlgorithmSpecification,
    Channel,
    DataSource,
    OutputDataConfig,
    ResourceConfig,
    S3DataSource,
    StoppingCondition,
)

from ml.artifacts import ARTIFACT_NAME, LoadedModel, load_artifact, new_model_id
from ml.config import TrainingConfig
from ml.sagemaker_runner import TrainingJobFailed, run_training_job, split_s3_uri
from ml.train import (
    OBJECTIVES,
    Fold,
    FoldResult,
    TrainedModel,
    data_range,
    evaluate,
    importance,
    labelled_rows,
    walk_forward_splits,
    xgboost_params,
)
from streamlines.aws import aws_session
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Stopped"})
DATA_PREFIX = "narwhal"
ROUNDS_RULE = (
    "early stopping on the validation channel (the last walk-forward block): the built-in "
    "algorithm keeps the best round's model"
)
_JOB_NAME_PART = re.compile(r"[^A-Za-z0-9-]+")


@dataclass(frozen=True)
class JobPlan:
    """Where one training job's data and model go."""

    model_id: str
    job_name: str
    bucket: str

    @property
    def prefix(self) -> str:
        return f"{DATA_PREFIX}/{self.model_id}"

    def channel_uri(self, channel: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}/data/{channel}/"

    @property
    def output_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/output/"


def job_name(model_id: str) -> str:
    """A training job name for ``model_id`` (SageMaker allows 63 letters, digits, hyphens)."""
    name, stamp, token = model_id.rsplit("-", 2)
    safe = _JOB_NAME_PART.sub("-", name).strip("-")[: 63 - len(stamp) - len(token) - 2]
    return f"{safe.rstrip('-') or 'narwhal'}-{stamp}-{token}"


def algorithm_hyperparameters(config: TrainingConfig) -> dict[str, Any]:
    """``config``'s hyperparameters by the built-in algorithm's names (typed values): the
    booster parameters local training uses, with ``num_round`` and ``early_stopping_rounds``,
    which the algorithm takes as hyperparameters too."""
    params = {k: v for k, v in xgboost_params(config).items() if k != "verbosity"}
    params["num_round"] = config.hyperparameters.num_round
    if config.hyperparameters.early_stopping_rounds is not None:
        params["early_stopping_rounds"] = config.hyperparameters.early_stopping_rounds
    return params


def as_strings(params: dict[str, Any]) -> dict[str, str]:
    """Hyperparameters as SageMaker passes them: strings (a float's shortest exact form)."""
    return {name: repr(v) if isinstance(v, float) else str(v) for name, v in params.items()}


def channel_csv(rows: pd.DataFrame, features: list[str]) -> bytes:
    """The built-in algorithm's CSV: the label, then the features; no header, no index;
    float32 (what xgboost trains on); an empty field where a value is unknown."""
    table = rows[["label", *features]].astype("float32")
    return table.to_csv(header=False, index=False, lineterminator="\n").encode()


# --- training ------------------------------------------------------------------------------


def train_sagemaker(
    matrix: pd.DataFrame,
    config: TrainingConfig,
    settings: Settings,
    *,
    model_id: str | None = None,
    poll_seconds: float = 5.0,
) -> TrainedModel:
    """Train ``config``'s model on ``matrix`` with SageMaker's built-in XGBoost (see above)."""
    features = list(config.features)
    labelled = labelled_rows(matrix, features, config.label.kind)
    fold = walk_forward_splits(
        labelled["time"], config.splits, config.label.horizon, symbols=labelled["symbol"]
    )[-1]
    model_id = model_id or new_model_id(config.name)
    plan = JobPlan(model_id, job_name(model_id), settings.sagemaker_bucket)
    image = training_image(settings)
    _check_role(settings)
    session = aws_session(settings)
    s3 = session.client("s3")
    _ensure_bucket(s3, settings)
    for channel, rows in (("train", fold.train), ("validation", fold.validation)):
        bucket, key = split_s3_uri(plan.channel_uri(channel) + f"{channel}.csv")
        _aws_call(settings, s3.put_object, Bucket=bucket, Key=key,
                  Body=channel_csv(labelled.iloc[rows], features))  # fmt: skip
    params = algorithm_hyperparameters(config)
    job = _create_job(session, settings, plan, image, as_strings(params))
    if settings.aws_emulated:
        _run_emulated(session, settings, plan.job_name)
    wait_for_job(job, settings.sagemaker_timeout, poll_seconds)
    with tempfile.TemporaryDirectory(prefix="narwhal-sagemaker-") as scratch:
        path = Path(scratch) / ARTIFACT_NAME
        uri = job.model_artifacts.s3_model_artifacts
        _download(s3, settings, uri, path)
        loaded = load_artifact(path, feature_names=features)
    notes = {
        "backend": "sagemaker",
        "training_job": plan.job_name,
        "training_job_arn": str(job.training_job_arn),
        "training_image": image,
        "model_artifact": uri,
        "data": f"s3://{plan.bucket}/{plan.prefix}/data/",
        "compute": "emulated: ml.sagemaker_runner" if settings.aws_emulated else "SageMaker",
        "num_round": ROUNDS_RULE,
    }
    return _trained_model(loaded, labelled, fold, config, params, notes)


def training_image(settings: Settings) -> str:
    """The built-in XGBoost image of ``sagemaker_xgboost_version`` in ``aws_region``."""
    version = settings.sagemaker_xgboost_version
    major = version.split(".")[0]
    if not major.isdigit() or int(major) < 3:
        raise UserError(
            f"STREAMLINES_SAGEMAKER_XGBOOST_VERSION={version}: SageMaker's XGBoost before 3.0 "
            "writes models in a binary format the installed xgboost cannot read",
            "use 3.0-5 or newer",
        )
    try:
        return str(image_uris.retrieve("xgboost", settings.aws_region, version))
    except ValueError as exc:
        raise UserError(
            f"no SageMaker XGBoost image {version} in region {settings.aws_region}: {exc}",
            "set STREAMLINES_SAGEMAKER_XGBOOST_VERSION (e.g. 3.0-5) or STREAMLINES_AWS_REGION",
        ) from None


def _check_role(settings: Settings) -> None:
    default = Settings.model_fields["sagemaker_role_arn"].default
    if not settings.aws_emulated and settings.sagemaker_role_arn == default:
        raise UserError(
            "real AWS needs the ARN of a role SageMaker can assume; the setting holds the "
            "emulator's dummy",
            "set STREAMLINES_SAGEMAKER_ROLE_ARN=arn:aws:iam::<account>:role/<role>",
        )


def _create_job(
    session: Any, settings: Settings, plan: JobPlan, image: str, hyperparameters: dict[str, str]
) -> TrainingJob:
    channels = [
        Channel(
            channel_name=channel,
            content_type="text/csv",
            data_source=DataSource(
                s3_data_source=S3DataSource(
                    s3_data_type="S3Prefix",
                    s3_uri=plan.channel_uri(channel),
                    s3_data_distribution_type="FullyReplicated",
                )
            ),
        )
        for channel in ("train", "validation")
    ]
    log.info("creating SageMaker training job %s (%s)", plan.job_name, image)
    job = _aws_call(
        settings,
        TrainingJob.create,
        training_job_name=plan.job_name,
        algorithm_specification=AlgorithmSpecification(
            training_image=image, training_input_mode="File"
        ),
        role_arn=settings.sagemaker_role_arn,
        hyper_parameters=hyperparameters,
        input_data_config=channels,
        output_data_config=OutputDataConfig(s3_output_path=plan.output_uri),
        resource_config=ResourceConfig(
            instance_type=settings.sagemaker_instance_type, instance_count=1, volume_size_in_gb=10
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=max(60, int(settings.sagemaker_timeout))
        ),
        session=session,
        region=settings.aws_region,
    )
    assert job is not None  # create returns the job it described
    return job


def _run_emulated(session: Any, settings: Settings, name: str) -> None:
    """The emulator's job: its compute, run here from its own description."""
    description = _aws_call(
        settings, session.client("sagemaker").describe_training_job, TrainingJobName=name
    )
    try:
        run_training_job(description, session)
    except TrainingJobFailed as exc:
        raise _failed(name, str(exc)) from None


def wait_for_job(job: Any, timeout: float, poll_seconds: float) -> None:
    """Poll ``job`` (a ``TrainingJob``) until it ends; ``UserError`` unless it Completed."""
    deadline = time.monotonic() + timeout
    seen: tuple[str, str] | None = None
    while True:
        status = str(job.training_job_status)
        now = (status, _text(getattr(job, "secondary_status", None)) or "")
        if now != seen:
            log.info("training job %s: %s (%s)", job.training_job_name, *now)
            seen = now
        if status in TERMINAL_STATUSES:
            break
        if time.monotonic() >= deadline:
            raise UserError(
                f"SageMaker training job {job.training_job_name} did not finish within "
                f"{timeout:.0f}s (last status: {status})",
                "see it in the SageMaker console; raise STREAMLINES_SAGEMAKER_TIMEOUT to wait "
                "longer",
            )
        time.sleep(poll_seconds)
        job.refresh()
    if status != "Completed":
        reason = _text(getattr(job, "failure_reason", None)) or "no reason given"
        raise _failed(job.training_job_name, f"{status}: {reason}")


def _failed(name: str, reason: str) -> UserError:
    return UserError(
        f"SageMaker training job {name} failed: {reason}",
        "fix what the reason names (the config's hyperparameters, the data), then train again",
    )


def _text(value: Any) -> str | None:
    """A field of an SDK shape as text; None when unset (the SDK's ``Unassigned``)."""
    return value if isinstance(value, str) else None


# --- S3 ------------------------------------------------------------------------------------


def _ensure_bucket(s3: Any, settings: Settings) -> None:
    bucket = settings.sagemaker_bucket
    try:
        _aws_call(settings, s3.head_bucket, Bucket=bucket)
    except _MissingBucket:
        if not settings.aws_emulated:
            raise UserError(
                f"the S3 bucket {bucket} does not exist (or this account cannot see it)",
                "create it, or set STREAMLINES_SAGEMAKER_BUCKET to a bucket of yours",
            ) from None
        where = {}
        if settings.aws_region != "us-east-1":  # S3's one region without a location constraint
            where["CreateBucketConfiguration"] = {"LocationConstraint": settings.aws_region}
        _aws_call(settings, s3.create_bucket, Bucket=bucket, **where)


def _download(s3: Any, settings: Settings, uri: Any, path: Path) -> None:
    if not isinstance(uri, str):
        raise UserError("the completed training job names no model artifact")
    bucket, key = split_s3_uri(uri)
    try:
        _aws_call(settings, s3.download_file, bucket, key, str(path))
    except _MissingBucket:
        raise UserError(f"the job's model artifact {uri} is not there") from None


class _MissingBucket(Exception):
    """S3 answered 404 (no such bucket or key)."""


def _aws_call(settings: Settings, call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(...)`` with AWS's errors as ``UserError``s that say what to do."""
    try:
        return call(*args, **kwargs)
    except NoCredentialsError:
        raise UserError(
            "no AWS credentials found for SageMaker",
            "set them (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or use "
            "the local stack's emulator: STREAMLINES_AWS_ENDPOINT=local",
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if str(error.get("Code")) in {"404", "NoSuchBucket", "NoSuchKey"}:
            raise _MissingBucket(str(exc)) from None
        raise UserError(
            f"AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}",
            "check the SageMaker settings (role, bucket, region) and the account's permissions",
        ) from None
    except BotoCoreError as exc:
        raise _unreachable(settings, exc) from None


def _unreachable(settings: Settings, exc: Exception) -> UserError:
    if settings.aws_emulated:
        return UserError(
            f"cannot reach the AWS emulator at {settings.aws_endpoint_url}: {exc}",
            "start it with `streamlines stack up aws`",
        )
    return UserError(
        f"cannot reach AWS: {exc}",
        "check the network and the AWS credentials, or use the local stack's emulator: "
        "STREAMLINES_AWS_ENDPOINT=local",
    )


# --- the result ----------------------------------------------------------------------------


def _trained_model(
    loaded: LoadedModel,
    labelled: pd.DataFrame,
    fold: Fold,
    config: TrainingConfig,
    params: dict[str, Any],
    notes: dict[str, str],
) -> TrainedModel:
    """The job's model with metrics computed here on the validation block."""
    features = list(config.features)
    booster = loaded.booster
    validation = labelled.iloc[fold.validation]
    x = validation[features].to_numpy(dtype="float64")
    predicted = booster.predict(xgb.DMatrix(x, missing=np.nan, feature_names=features))
    rounds = booster.num_boosted_rounds()
    result = FoldResult(
        number=fold.number,
        train_rows=len(fold.train),
        validation_rows=len(fold.validation),
        validation_first=pd.Timestamp(validation["time"].min()),
        validation_last=pd.Timestamp(validation["time"].max()),
        best_iteration=rounds - 1,
        rounds_run=rounds,  # the rounds kept; the job's log has those run
        metrics=evaluate(config.label.kind, validation["label"].to_numpy(), predicted),
    )
    used = labelled.iloc[np.concatenate([fold.train, fold.validation])]
    return TrainedModel(
        booster=booster,
        feature_names=tuple(features),
        objective=OBJECTIVES[config.label.kind],
        params=params,
        folds=[result],
        num_round=rounds,
        importance=importance(booster, features),
        data_range=data_range(used),
        notes=notes,
    )
