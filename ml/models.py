"""Where trained models are kept: ``<root>/<model_id>/model.tar.gz``.

``ModelStore`` is what every store offers; ``LocalModelStore`` keeps models in a local
directory (``<settings home>/models`` by default). A store on S3 can sit beside it.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

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
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}-\d{8}T\d{6}-[0-9a-f]{6}$")
LIST_HINT = "see the model ids with `streamlines ml models` (ModelStore.list_models())"


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
            raise UserError(f"unknown model {model_id!r} in {self.root}", LIST_HINT)
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
