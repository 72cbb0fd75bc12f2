"""A training config: the JSON document a user writes to train a model, validated with
messages that name the field (``ConfigError``).

```json
{"name": "goog-daily", "symbols": ["GOOG"], "start": "2005-01-01", "end": "2013-01-01",
 "timeframe": "1Day", "features": ["ret_1", "rsi_14"],
 "label": {"kind": "classification", "horizon": 5},
 "hyperparameters": {"max_depth": 4, "eta": 0.1, "num_round": 300},
 "splits": {"folds": 4, "min_train_fraction": 0.5}, "backend": "local"}
```
Hyperparameters use the names of SageMaker's built-in XGBoost algorithm (``num_round``,
``eta``, ``lambda``...), so one config trains the same model on either backend.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ml.features_catalogue import DEFAULT_FEATURES, FEATURE_NAMES
from streamlines.contracts.time import utc
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError

MAX_SYMBOLS = 500


class ConfigError(UserError):
    """A config that cannot be trained: the message names each wrong field and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LabelSpec(_Strict):
    """What the model predicts: the sign (classification: 1 when the forward log return is
    positive, else 0) or the size (regression: the forward log return) of the return from the
    close of bar t to the close of bar t + horizon."""

    kind: Literal["classification", "regression"] = "classification"
    horizon: int = Field(5, ge=1, le=1000, description="bars ahead")


class XGBoostParams(_Strict):
    """XGBoost hyperparameters, by the built-in algorithm's names."""

    num_round: int = Field(200, ge=1, le=10_000)
    max_depth: int = Field(6, ge=1, le=20)
    eta: float = Field(0.1, gt=0, le=1)
    gamma: float = Field(0.0, ge=0)
    min_child_weight: float = Field(1.0, ge=0)
    subsample: float = Field(1.0, gt=0, le=1)
    colsample_bytree: float = Field(1.0, gt=0, le=1)
    lambda_: float = Field(1.0, ge=0, alias="lambda")
    alpha: float = Field(0.0, ge=0)
    early_stopping_rounds: int | None = Field(20, ge=1)
    seed: int = 0


class SplitSpec(_Strict):
    """Walk-forward validation: the rows after the first ``min_train_fraction`` are cut into
    ``folds`` consecutive blocks; fold k trains on everything before block k (less the last
    ``horizon`` bars, whose labels would look into the block) and validates on block k."""

    folds: int = Field(4, ge=1, le=20)
    min_train_fraction: float = Field(0.5, gt=0, lt=1)


class TrainingConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    symbols: list[str] = Field(min_length=1, max_length=MAX_SYMBOLS)
    start: datetime
    end: datetime
    timeframe: BarTimeframe = BarTimeframe.DAY_1
    features: list[str] = Field(default_factory=lambda: list(DEFAULT_FEATURES), min_length=1)
    label: LabelSpec = LabelSpec()
    hyperparameters: XGBoostParams = XGBoostParams()
    splits: SplitSpec = SplitSpec()
    backend: Literal["local", "sagemaker"] = "local"

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        for symbol in value:
            if not symbol or symbol != symbol.strip() or symbol.upper() != symbol:
                raise ValueError(f"{symbol!r}: symbols are upper case without spaces, e.g. GOOG")
        if len(set(value)) != len(value):
            raise ValueError("a symbol is listed twice")
        return value

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return utc(value)

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in FEATURE_NAMES]
        if unknown:
            raise ValueError(
                f"unknown feature(s) {', '.join(unknown)}: choose from {', '.join(FEATURE_NAMES)}"
            )
        if len(set(value)) != len(value):
            raise ValueError("a feature is listed twice")
        return value

    @model_validator(mode="after")
    def _range(self) -> TrainingConfig:
        if self.end <= self.start:
            raise ValueError("end: must be after start (the range is empty)")
        return self

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def parse_config(data: dict[str, Any] | str | bytes) -> TrainingConfig:
    """The config in ``data`` (a dict, or JSON text); ``ConfigError`` naming each bad field."""
    try:
        if isinstance(data, str | bytes):
            return TrainingConfig.model_validate_json(data)
        return TrainingConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_reasons(exc), "correct the config and try again") from None


def load_config(path: Path) -> TrainingConfig:
    """The config in the JSON file at ``path``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read the config {path}: {exc.strerror}") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    return parse_config(text)


def _reasons(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "config"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "not a known field (check its spelling)"
        lines.append(f"field `{where}`: {message}")
    return "invalid training config:\n  " + "\n  ".join(lines)
