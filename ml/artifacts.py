"""The one model artifact: ``model.tar.gz``, the layout of SageMaker's built-in XGBoost.

At the archive root, ``xgboost-model``: the booster written by ``Booster.save_model`` in
XGBoost's UBJSON format (what the built-in algorithm's 3.x containers write to the model
directory; its 1.x containers wrote the old binary format, which xgboost >= 3 no longer reads).
Beside it, ``narwhal/metadata.json``: model id, config, feature names in model order, xgboost
version, objective, metrics, importance, data range, creation time, the sha256 of
``xgboost-model`` and ``format_version``. It sits in a folder because the built-in algorithm's
inference container loads every regular, non-hidden file at the model directory's root as a
model (an ensemble): a ``metadata.json`` there would break a deployment; folders are skipped.

An archive holding only ``xgboost-model`` (a model trained by the built-in algorithm) loads
when the caller gives the feature names.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import secrets
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ml.config import TrainingConfig
from ml.train import TrainedModel
from streamlines.errors import UserError

ARTIFACT_NAME = "model.tar.gz"
MODEL_FILE = "xgboost-model"
METADATA_FILE = "narwhal/metadata.json"
FORMAT_VERSION = 1
KNOWN_FORMAT_VERSIONS = frozenset({1})


class ArtifactMetadata(BaseModel):
    """What ``narwhal/metadata.json`` must hold (more keys are kept, not checked)."""

    model_config = ConfigDict(extra="allow", frozen=True, protected_namespaces=())

    format_version: int
    model_id: str
    feature_names: list[str] = Field(min_length=1)
    xgboost_version: str
    objective: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: datetime
    config: dict[str, Any]
    metrics: dict[str, Any]
    importance: dict[str, float]
    data_range: dict[str, Any]


@dataclass(frozen=True)
class LoadedModel:
    booster: xgb.Booster
    feature_names: tuple[str, ...]
    metadata: dict[str, Any]  # empty when the archive has only xgboost-model
    path: Path


def new_model_id(name: str, now: datetime | None = None) -> str:
    """``<config name>-<UTC yyyymmddThhmmss>-<6 hex>``."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{name}-{stamp}-{secrets.token_hex(3)}"


# --- writing -------------------------------------------------------------------------------


def write_artifact(
    model: TrainedModel,
    config: TrainingConfig,
    directory: Path,
    *,
    model_id: str | None = None,
    now: datetime | None = None,
) -> Path:
    """Write ``directory/model.tar.gz`` atomically (a temporary file in ``directory``, then
    ``os.replace``): a failure leaves no file behind and an earlier artifact untouched."""
    created_at = (now or datetime.now(UTC)).astimezone(UTC)
    booster_bytes = _booster_bytes(model.booster)
    metadata = _metadata(model, config, booster_bytes, model_id, created_at)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / ARTIFACT_NAME
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{ARTIFACT_NAME}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add(tar, MODEL_FILE, booster_bytes, created_at)
                _add(tar, METADATA_FILE, _json_bytes(metadata), created_at)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _booster_bytes(booster: xgb.Booster) -> bytes:
    # Booster.save_model picks the format from the extension: ``.ubj`` is the UBJSON that
    # xgboost >= 2.1 writes by default (and the built-in algorithm's 3.x containers write to
    # ``xgboost-model``); naming it explicitly avoids xgboost's "format by default" warning.
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"{MODEL_FILE}.ubj"
        booster.save_model(path)
        return path.read_bytes()


def _metadata(
    model: TrainedModel,
    config: TrainingConfig,
    booster_bytes: bytes,
    model_id: str | None,
    created_at: datetime,
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "model_id": model_id or new_model_id(config.name, created_at),
        "name": config.name,
        "created_at": created_at.isoformat(),
        "config": config.to_json(),
        "feature_names": list(model.feature_names),
        "xgboost_version": xgb.__version__,
        "objective": model.objective,
        "params": model.params,
        "num_round": model.num_round,
        "best_iterations": model.best_iterations,
        "notes": model.notes,
        "metrics": _finite(model.metrics),
        "importance": model.importance,
        "data_range": model.data_range.to_json(),
        "sha256": hashlib.sha256(booster_bytes).hexdigest(),
    }


def _finite(value: Any) -> Any:
    """NaN (an AUC of a one-class block) as JSON null: metadata.json stays strict JSON."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, indent=2, allow_nan=False).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime.timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


# --- reading -------------------------------------------------------------------------------


def load_artifact(path: Path, feature_names: list[str] | None = None) -> LoadedModel:
    """The model in ``path`` (a ``model.tar.gz``), checked; ``UserError`` with the reason.

    ``feature_names`` (model order) are needed when the archive has only ``xgboost-model``;
    with metadata they must equal its names."""
    files = _read_members(path)
    if MODEL_FILE not in files:
        found = ", ".join(sorted(files)) or "nothing"
        raise _refuse(path, f"it has no `{MODEL_FILE}` at the archive root (found: {found})")
    model_bytes = files[MODEL_FILE]
    if METADATA_FILE in files:
        metadata = _checked_metadata(path, files[METADATA_FILE], model_bytes)
        names = _names_from_metadata(path, metadata, feature_names)
        raw_metadata = metadata.model_dump(mode="json")
    else:
        names = _names_given(path, feature_names)
        raw_metadata = {}
    booster = _booster(path, model_bytes, names)
    return LoadedModel(booster, tuple(names), raw_metadata, path)


def read_metadata(path: Path) -> dict[str, Any]:
    """The checked metadata of the artifact at ``path``, without loading the booster."""
    files = _read_members(path)
    if MODEL_FILE not in files or METADATA_FILE not in files:
        raise _refuse(path, f"it lacks `{MODEL_FILE}` or `{METADATA_FILE}`")
    return _checked_metadata(path, files[METADATA_FILE], files[MODEL_FILE]).model_dump(mode="json")


def _read_members(path: Path) -> dict[str, bytes]:
    """Regular files of the archive by name (a leading ``./`` dropped); nothing extracted."""
    if not path.is_file():
        raise UserError(f"no model artifact at {path}", "check the path of the model.tar.gz")
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            files = {}
            for member in tar.getmembers():
                extracted = tar.extractfile(member) if member.isfile() else None
                if extracted is not None:
                    files[member.name.removeprefix("./")] = extracted.read()
            return files
    except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise _refuse(path, f"it is not a gzip-compressed tar archive ({exc})") from None


def _checked_metadata(path: Path, text: bytes, model_bytes: bytes) -> ArtifactMetadata:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _refuse(path, f"`{METADATA_FILE}` is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _refuse(path, f"`{METADATA_FILE}` is not a JSON object")
    if data.get("format_version") not in KNOWN_FORMAT_VERSIONS:
        raise _refuse(
            path,
            f"format_version {data.get('format_version')!r} is unknown (this Narwhal reads "
            f"{', '.join(map(str, sorted(KNOWN_FORMAT_VERSIONS)))})",
            "upgrade Stream Lines, or re-export the model with this version",
        )
    try:
        metadata = ArtifactMetadata.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) + f" ({e['msg']})" for e in exc.errors())
        raise _refuse(path, f"`{METADATA_FILE}` is invalid: {fields}") from None
    digest = hashlib.sha256(model_bytes).hexdigest()
    if digest != metadata.sha256:
        raise _refuse(
            path,
            f"checksum mismatch: `{MODEL_FILE}` has sha256 {digest}, the metadata says "
            f"{metadata.sha256} (the file was changed or damaged)",
        )
    _check_version(path, metadata.xgboost_version)
    return metadata


def _check_version(path: Path, written_by: str) -> None:
    try:
        major = int(written_by.split(".")[0])
    except ValueError:
        raise _refuse(path, f"xgboost_version {written_by!r} is not a version") from None
    installed = int(xgb.__version__.split(".")[0])
    if major > installed:
        raise _refuse(
            path,
            f"it was written by xgboost {written_by}; the installed xgboost {xgb.__version__} "
            "cannot read a newer major version",
            f"install xgboost>={major} to load it",
        )


def _names_from_metadata(
    path: Path, metadata: ArtifactMetadata, given: list[str] | None
) -> list[str]:
    names = list(metadata.feature_names)
    if given is not None and list(given) != names:
        raise _refuse(
            path,
            f"the feature names given ({', '.join(given)}) differ from the model's "
            f"({', '.join(names)})",
            "omit them: the artifact's metadata names its features",
        )
    return names


def _names_given(path: Path, given: list[str] | None) -> list[str]:
    if not given:
        raise _refuse(
            path,
            f"it has no `{METADATA_FILE}` (as a model trained by SageMaker's built-in XGBoost), "
            "so the feature names are unknown",
            "pass the feature names in model order (the training config's `features`)",
        )
    return list(given)


def _booster(path: Path, model_bytes: bytes, names: list[str]) -> xgb.Booster:
    if not model_bytes.startswith(b"{"):
        raise _refuse(
            path,
            f"`{MODEL_FILE}` is not in XGBoost's JSON/UBJSON model format (xgboost < 2.1, e.g. "
            f"SageMaker's XGBoost 1.x containers, wrote an older binary format that xgboost "
            f"{xgb.__version__} cannot read)",
            "train with a 3.x version of SageMaker's XGBoost (e.g. 3.0-5), or re-save the model "
            "as UBJSON with xgboost 1.7-2.x",
        )
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(model_bytes))
    except xgb.core.XGBoostError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown error"
        raise _refuse(path, f"xgboost cannot read `{MODEL_FILE}`: {first_line}") from None
    if booster.num_features() != len(names):
        raise _refuse(
            path,
            f"the model uses {booster.num_features()} features but {len(names)} feature names "
            "were given",
            "give the names of every feature, in model order",
        )
    if booster.feature_names is not None and list(booster.feature_names) != names:
        raise _refuse(path, f"the model's own feature names differ: {booster.feature_names}")
    booster.feature_names = names
    return booster


def _refuse(path: Path, reason: str, hint: str | None = None) -> UserError:
    return UserError(
        f"cannot load the model artifact {path}: {reason}",
        hint or "export the model again, or train it again",
    )


# --- scoring -------------------------------------------------------------------------------


def predict(loaded: LoadedModel, matrix: pd.DataFrame) -> np.ndarray:
    """Scores of the rows of a matrix-contract frame, features taken by name in model order."""
    names = list(loaded.feature_names)
    missing = [name for name in names if name not in matrix.columns]
    if missing:
        raise UserError(
            f"the feature matrix has no column(s) {', '.join(missing)} that the model uses",
            "build the matrix with the model's features (its config's `features`)",
        )
    try:
        x = matrix[names].to_numpy(dtype="float64")
    except (TypeError, ValueError) as exc:
        raise UserError(f"the model's features must be numbers: {exc}") from None
    if not len(x):
        return np.empty(0)
    # In place, not through a DMatrix: the same scores, bit for bit (a test holds it to
    # Booster.predict), without building the DMatrix, which cost as much as the prediction.
    return np.asarray(loaded.booster.inplace_predict(x, missing=np.nan), dtype="float64")
