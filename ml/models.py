"""Where trained models are kept: ``<root>/<model_id>/model.tar.gz``.

``ModelStore`` is what every store offers. ``LocalModelStore`` keeps models in a local
directory (``<settings home>/models`` by default); ``S3ModelStore`` on S3
(``s3://<bucket>/<prefix>/<model_id>/model.tar.gz``, ``STREAMLINES_MODEL_STORE=s3``), with the
artifacts it reads cached in the local directory. ``model_store(settings)`` gives the one the
settings choose.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ml.artifacts import (
    ARTIFACT_NAME,
    LoadedModel,
    load_artifact,
    new_model_id,
    read_metadata,
    write_artifact,
)
from ml.config import TrainingConfig
from ml.train import TrainedModel
from streamlines.aws import aws_session
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}-\d{8}T\d{6}-[0-9a-f]{6}$")
LIST_HINT = "see the model ids with `streamlines ml models` (ModelStore.list_models())"


class UnknownModel(UserError):
    """No model with this (well-formed) id in the store."""


@dataclass(frozen=True)
class ModelRecord:
    model_id: str
    name: str
    created_at: datetime
    metrics: dict[str, Any]  # the mean over the walk-forward folds
    path: str  # where the model.tar.gz is: a local path (an s3:// URI in an S3 store)
    metadata: dict[str, Any]


class ModelStore(Protocol):
    def save(self, model: TrainedModel, config: TrainingConfig) -> ModelRecord: ...

    def get(self, model_id: str) -> ModelRecord: ...

    def list_models(self) -> list[ModelRecord]: ...

    def load(self, model_id: str) -> LoadedModel: ...

    def delete(self, model_id: str) -> None: ...


class LocalModelStore:
    """Models in a local directory, one folder per model id."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalModelStore:
        """The store at ``STREAMLINES_MODELS_DIR`` (default ``<STREAMLINES_HOME>/models``)."""
        return cls(settings.model_store_dir)

    def save(self, model: TrainedModel, config: TrainingConfig) -> ModelRecord:
        model_id = new_model_id(config.name)
        folder = self.root / model_id
        folder.mkdir(parents=True)
        try:
            path = write_artifact(model, config, folder, model_id=model_id)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return _record(path, read_metadata(path))

    def get(self, model_id: str) -> ModelRecord:
        path = self._artifact(model_id)
        return _record(path, read_metadata(path))

    def load(self, model_id: str) -> LoadedModel:
        return load_artifact(self._artifact(model_id))

    def list_models(self) -> list[ModelRecord]:
        """Every readable model, oldest first (an unreadable one is logged and skipped)."""
        records = []
        for path in sorted(self.root.glob(f"*/{ARTIFACT_NAME}")):
            if not MODEL_ID.match(path.parent.name):
                continue
            try:
                records.append(_record(path, read_metadata(path)))
            except UserError as exc:
                log.warning("skipping model %s: %s", path.parent.name, exc)
        return sorted(records, key=lambda r: (r.created_at, r.model_id))

    def delete(self, model_id: str) -> None:
        path = self._artifact(model_id)
        # Rename first so a crash mid-delete leaves no half model under its id.
        trash = self.root / f".deleting-{model_id}"
        path.parent.rename(trash)
        shutil.rmtree(trash)

    def _artifact(self, model_id: str) -> Path:
        if not MODEL_ID.match(model_id):
            raise UserError(
                f"{model_id!r} is not a model id (<config name>-<yyyymmddThhmmss>-<6 hex>)",
                LIST_HINT,
            )
        path = self.root / model_id / ARTIFACT_NAME
        if not path.is_file():
            raise UnknownModel(f"unknown model {model_id!r} in {self.root}", LIST_HINT)
        return path


def _record(path: Path, metadata: dict[str, Any]) -> ModelRecord:
    return ModelRecord(
        model_id=metadata["model_id"],
        name=metadata.get("name") or metadata["config"].get("name", ""),
        created_at=datetime.fromisoformat(metadata["created_at"]),
        metrics=dict(metadata["metrics"].get("mean", {})),
        path=str(path),
        metadata=metadata,
    )


class S3ModelStore:
    """Models on S3 (or the local stack's emulator): one object per model,
    ``s3://<bucket>/<prefix>/<model_id>/model.tar.gz``; what it reads is cached under
    ``cache`` (the same layout as a local store)."""

    def __init__(self, s3: Any, bucket: str, prefix: str, cache: Path) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.root = cache

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ModelStore:
        s3 = aws_session(settings).client("s3")
        return cls(s3, settings.models_s3_bucket, settings.models_s3_prefix,
                   settings.model_store_dir)  # fmt: skip

    def uri(self, model_id: str) -> str:
        return f"s3://{self.bucket}/{self._key(model_id)}"

    def save(self, model: TrainedModel, config: TrainingConfig) -> ModelRecord:
        model_id = new_model_id(config.name)
        with tempfile.TemporaryDirectory(prefix="narwhal-model-") as scratch:
            path = write_artifact(model, config, Path(scratch), model_id=model_id)
            self._ensure_bucket()
            self._call("upload", lambda: self.s3.upload_file(str(path), self.bucket,
                                                             self._key(model_id)))  # fmt: skip
        return self.get(model_id)

    def get(self, model_id: str) -> ModelRecord:
        path = self._fetch(model_id)
        return replace(_record(path, read_metadata(path)), path=self.uri(model_id))

    def load(self, model_id: str) -> LoadedModel:
        return load_artifact(self._fetch(model_id))

    def list_models(self) -> list[ModelRecord]:
        """Every readable model, oldest first (an unreadable one is logged and skipped)."""
        records = []
        for model_id in self._model_ids():
            try:
                records.append(self.get(model_id))
            except UserError as exc:
                log.warning("skipping model %s: %s", model_id, exc)
        return sorted(records, key=lambda r: (r.created_at, r.model_id))

    def delete(self, model_id: str) -> None:
        self._fetch(model_id)  # refuses an unknown id
        self._call("delete", lambda: self.s3.delete_object(Bucket=self.bucket,
                                                          Key=self._key(model_id)))  # fmt: skip
        shutil.rmtree(self.root / model_id, ignore_errors=True)

    def _key(self, model_id: str) -> str:
        if not MODEL_ID.match(model_id):
            raise UserError(
                f"{model_id!r} is not a model id (<config name>-<yyyymmddThhmmss>-<6 hex>)",
                LIST_HINT,
            )
        return f"{self.prefix}/{model_id}/{ARTIFACT_NAME}" if self.prefix else \
            f"{model_id}/{ARTIFACT_NAME}"  # fmt: skip

    def _fetch(self, model_id: str) -> Path:
        """The artifact in the local cache, downloaded first if it is not there (an artifact
        never changes under its id)."""
        key = self._key(model_id)
        path = self.root / model_id / ARTIFACT_NAME
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{ARTIFACT_NAME}.download")
        try:
            self.s3.download_file(self.bucket, key, str(partial))
        except ClientError as exc:
            partial.unlink(missing_ok=True)
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchBucket"):
                raise UnknownModel(f"unknown model {model_id!r} in {self.uri(model_id)}",
                                   LIST_HINT) from None  # fmt: skip
            raise _aws_error("download", exc) from None
        partial.replace(path)
        return path

    def _model_ids(self) -> list[str]:
        prefix = f"{self.prefix}/" if self.prefix else ""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                  Prefix=prefix)  # fmt: skip
        ids = []
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    parts = item["Key"][len(prefix) :].split("/")
                    if len(parts) == 2 and parts[1] == ARTIFACT_NAME and MODEL_ID.match(parts[0]):
                        ids.append(parts[0])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
                return []
            raise _aws_error("list", exc) from None
        return ids

    def _ensure_bucket(self) -> None:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._call("create the bucket", lambda: self.s3.create_bucket(Bucket=self.bucket))

    def _call(self, what: str, action: Any) -> Any:
        try:
            return action()
        except ClientError as exc:
            raise _aws_error(what, exc) from None
        except BotoCoreError as exc:
            raise UserError(
                f"S3 did not answer ({what}): {exc}",
                "start the local emulator (`streamlines stack up aws`) or set AWS credentials",
            ) from None


def _aws_error(what: str, exc: ClientError) -> UserError:
    code = exc.response.get("Error", {}).get("Code", "?")
    return UserError(f"S3 refused to {what} the model: {code}",
                     "check STREAMLINES_MODELS_S3_BUCKET and the credentials")  # fmt: skip


def model_store(settings: Settings) -> ModelStore:
    """The store the settings choose: ``STREAMLINES_MODEL_STORE`` = local (default) or s3."""
    if settings.model_store == "s3":
        return S3ModelStore.from_settings(settings)
    return LocalModelStore.from_settings(settings)
