"""Local training: XGBoost in-process on a feature matrix, validated walk-forward.

The matrix is the shared contract (``symbol``, ``time``, the features in model order,
``label``). Rows without a label (the horizon runs past the data) are not trained on.

Walk-forward validation cuts the distinct times after the first ``min_train_fraction`` into
``splits.folds`` consecutive blocks. Fold k trains on every row before block k except the
last ``horizon`` distinct times (their labels would look into the block) and validates, with
early stopping, on block k. The final model trains on every labelled row for the mean number
of rounds the folds stopped at, so it needs no validation data of its own.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from ml.config import ConfigError, SplitSpec, TrainingConfig
from streamlines.errors import UserError

OBJECTIVES = {"classification": "binary:logistic", "regression": "reg:squarederror"}
# The metric early stopping watches (the last one xgboost evaluates), per label kind.
STOPPING_METRIC = {"classification": "logloss", "regression": "rmse"}
FINAL_ROUNDS_RULE = "mean over the folds of the rounds kept by early stopping (best_iteration+1)"


@dataclass(frozen=True)
class Fold:
    """Row positions (into the times given to ``walk_forward_splits``) of one fold."""

    number: int
    train: np.ndarray
    validation: np.ndarray


@dataclass(frozen=True)
class DataRange:
    first: pd.Timestamp
    last: pd.Timestamp
    rows: int
    symbols: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "rows": self.rows,
            "symbols": list(self.symbols),
        }


@dataclass(frozen=True)
class FoldResult:
    number: int
    train_rows: int
    validation_rows: int
    validation_first: pd.Timestamp
    validation_last: pd.Timestamp
    best_iteration: int  # 0-based index of the best round; best_iteration + 1 trees kept
    rounds_run: int  # rounds trained before early stopping stopped (or num_round)
    metrics: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "fold": self.number,
            "train_rows": self.train_rows,
            "validation_rows": self.validation_rows,
            "validation_first": self.validation_first.isoformat(),
            "validation_last": self.validation_last.isoformat(),
            "best_iteration": self.best_iteration,
            "rounds_run": self.rounds_run,
            "metrics": self.metrics,
        }


@dataclass
class TrainedModel:
    booster: xgb.Booster
    feature_names: tuple[str, ...]
    objective: str
    params: dict[str, Any]
    folds: list[FoldResult]
    num_round: int  # rounds of the final model
    importance: dict[str, float]  # gain, by feature name in model order
    data_range: DataRange
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def best_iterations(self) -> list[int]:
        return [f.best_iteration for f in self.folds]

    @property
    def mean_metrics(self) -> dict[str, float]:
        names = self.folds[0].metrics if self.folds else {}
        return {n: float(np.nanmean([f.metrics[n] for f in self.folds])) for n in names}

    @property
    def metrics(self) -> dict[str, Any]:
        return {"folds": [f.to_json() for f in self.folds], "mean": self.mean_metrics}


# --- walk-forward splits -------------------------------------------------------------------


def walk_forward_splits(
    times: pd.Series, splits: SplitSpec, horizon: int, symbols: pd.Series | None = None
) -> list[Fold]:
    """The folds over rows whose times are ``times`` (any order; many rows may share a time).

    With ``symbols`` (aligned with ``times``) a training row is also dropped when its label's
    end (the time of its symbol's row ``horizon`` rows later) is not before the block: exact
    when symbols have bars at different times (sparse minute bars)."""
    ns = _nanoseconds(times)
    distinct = np.unique(ns)
    codes = np.searchsorted(distinct, ns)
    blocks = _blocks(len(distinct), splits, horizon)
    label_end = None if symbols is None else _label_end(ns, symbols, horizon)
    folds = []
    for number, (begin, end) in enumerate(blocks, start=1):
        train_mask = codes < begin - horizon
        if label_end is not None:
            train_mask &= label_end < distinct[begin]
        train = np.flatnonzero(train_mask)
        validation = np.flatnonzero((codes >= begin) & (codes < end))
        if len(train) == 0:
            raise _too_few(len(distinct), splits, horizon, f"fold {number} has no training rows")
        folds.append(Fold(number, train, validation))
    return folds


def _nanoseconds(times: pd.Series) -> np.ndarray:
    index = pd.DatetimeIndex(times)
    if index.hasnans:
        raise UserError("the feature matrix has rows without a time", "rebuild the matrix")
    return index.as_unit("ns").asi8


def _blocks(n_times: int, splits: SplitSpec, horizon: int) -> list[tuple[int, int]]:
    """[begin, end) positions into the distinct times of each validation block."""
    start = math.floor(n_times * splits.min_train_fraction)
    if n_times - start < splits.folds:
        raise _too_few(n_times, splits, horizon, "a validation block would be empty")
    if start - horizon < 1:
        raise _too_few(n_times, splits, horizon, "fold 1 has no training rows")
    edges = np.linspace(start, n_times, splits.folds + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def _label_end(ns: np.ndarray, symbols: pd.Series, horizon: int) -> np.ndarray:
    """Per row, the time (ns) of its symbol's row ``horizon`` rows later in time; +inf-like
    (the largest int64) where there is none, so such a row never trains next to a block."""
    codes, _ = pd.factorize(symbols.to_numpy())
    order = np.lexsort((ns, codes))
    sorted_ns, sorted_codes = ns[order], codes[order]
    ends = np.full(len(ns), np.iinfo(np.int64).max, dtype=np.int64)
    if len(ns) > horizon:
        same = sorted_codes[horizon:] == sorted_codes[:-horizon]
        head = ends[:-horizon]
        head[same] = sorted_ns[horizon:][same]
    result = np.empty(len(ns), dtype=np.int64)
    result[order] = ends
    return result


def _too_few(n_times: int, splits: SplitSpec, horizon: int, why: str) -> ConfigError:
    return ConfigError(
        f"field `splits.folds`: {n_times} distinct bar times with min_train_fraction "
        f"{splits.min_train_fraction}, {splits.folds} fold(s) and a horizon of {horizon} "
        f"bar(s): {why}",
        "use fewer folds, a longer date range, a smaller min_train_fraction or a shorter horizon",
    )


# --- metrics -------------------------------------------------------------------------------


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """logloss (probabilities clipped to [1e-15, 1 - 1e-15]), ROC AUC (ties count half; NaN
    with one class) and accuracy (p >= 0.5 predicts 1)."""
    y, p = _float64(y), _float64(p)
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    logloss = -np.mean(y * np.log(clipped) + (1 - y) * np.log1p(-clipped))
    return {
        "logloss": float(logloss),
        "auc": roc_auc(y, p),
        "accuracy": float(np.mean((p >= 0.5) == (y == 1))),
    }


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Mann-Whitney: the mean rank of the positives among all scores (ties averaged)."""
    positives = int(np.sum(y == 1))
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = pd.Series(p).rank(method="average").to_numpy()
    rank_sum = ranks[y == 1].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def regression_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    error = _float64(p) - _float64(y)
    return {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}


def _float64(values: np.ndarray) -> np.ndarray:
    # xgboost predicts float32: metrics in float32 would lose ~1e-7 of precision.
    return np.asarray(values, dtype="float64")


def evaluate(kind: str, y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return classification_metrics(y, p) if kind == "classification" else regression_metrics(y, p)


# --- training ------------------------------------------------------------------------------


def xgboost_params(config: TrainingConfig) -> dict[str, Any]:
    """The booster parameters of ``config`` (``num_round`` and ``early_stopping_rounds`` are
    arguments of ``xgb.train``, not parameters)."""
    hp = config.hyperparameters
    return {
        "objective": OBJECTIVES[config.label.kind],
        "eval_metric": STOPPING_METRIC[config.label.kind],
        "tree_method": "hist",
        "max_depth": hp.max_depth,
        "eta": hp.eta,
        "gamma": hp.gamma,
        "min_child_weight": hp.min_child_weight,
        "subsample": hp.subsample,
        "colsample_bytree": hp.colsample_bytree,
        "lambda": hp.lambda_,
        "alpha": hp.alpha,
        "seed": hp.seed,
        "verbosity": 0,
    }


def train_local(matrix: pd.DataFrame, config: TrainingConfig) -> TrainedModel:
    """Train ``config``'s model on ``matrix``: walk-forward folds, then the final model."""
    features = list(config.features)
    labelled = labelled_rows(matrix, features, config.label.kind)
    folds = walk_forward_splits(
        labelled["time"], config.splits, config.label.horizon, symbols=labelled["symbol"]
    )
    x = labelled[features].to_numpy(dtype="float64")
    y = labelled["label"].to_numpy(dtype="float64")
    params = xgboost_params(config)
    times = labelled["time"]
    results = [_train_fold(fold, x, y, times, features, config, params) for fold in folds]
    num_round = max(1, round(float(np.mean([r.best_iteration + 1 for r in results]))))
    final = xgb.train(params, _dmatrix(x, y, features), num_boost_round=num_round)
    return TrainedModel(
        booster=final,
        feature_names=tuple(features),
        objective=params["objective"],
        params=params,
        folds=results,
        num_round=num_round,
        importance=importance(final, features),
        data_range=data_range(labelled),
        notes={"num_round": FINAL_ROUNDS_RULE},
    )


def _train_fold(
    fold: Fold,
    x: np.ndarray,
    y: np.ndarray,
    times: pd.Series,
    features: list[str],
    config: TrainingConfig,
    params: dict[str, Any],
) -> FoldResult:
    train = _dmatrix(x[fold.train], y[fold.train], features)
    validation = _dmatrix(x[fold.validation], y[fold.validation], features)
    hp = config.hyperparameters
    booster = xgb.train(
        params,
        train,
        num_boost_round=hp.num_round,
        evals=[(validation, "validation")],
        early_stopping_rounds=hp.early_stopping_rounds,
        verbose_eval=False,
    )
    best = booster.best_iteration if hp.early_stopping_rounds else hp.num_round - 1
    predicted = booster.predict(validation, iteration_range=(0, best + 1))
    validation_times = times.iloc[fold.validation]
    return FoldResult(
        number=fold.number,
        train_rows=len(fold.train),
        validation_rows=len(fold.validation),
        validation_first=pd.Timestamp(validation_times.min()),
        validation_last=pd.Timestamp(validation_times.max()),
        best_iteration=int(best),
        rounds_run=booster.num_boosted_rounds(),
        metrics=evaluate(config.label.kind, y[fold.validation], predicted),
    )


def _dmatrix(x: np.ndarray, y: np.ndarray, features: list[str]) -> xgb.DMatrix:
    return xgb.DMatrix(x, label=y, missing=np.nan, feature_names=features)


def labelled_rows(matrix: pd.DataFrame, features: list[str], kind: str) -> pd.DataFrame:
    missing = [c for c in ["symbol", "time", *features, "label"] if c not in matrix.columns]
    if missing:
        raise UserError(
            f"the feature matrix has no column(s) {', '.join(missing)}",
            "build it with the same config (its features, in order, and its label)",
        )
    labelled = matrix[matrix["label"].notna()].reset_index(drop=True)
    if labelled.empty:
        raise UserError(
            "the feature matrix has no labelled rows", "use a longer range or a shorter horizon"
        )
    if kind == "classification" and not labelled["label"].isin([0.0, 1.0]).all():
        raise UserError(
            "a classification label must be 0 or 1; the matrix has other values",
            "build the matrix with label kind `classification`",
        )
    return labelled


def importance(booster: xgb.Booster, features: list[str]) -> dict[str, float]:
    gain = booster.get_score(importance_type="gain")  # a list per feature only for multi-class
    return {name: float(np.mean(gain.get(name, 0.0))) for name in features}


def data_range(labelled: pd.DataFrame) -> DataRange:
    return DataRange(
        first=pd.Timestamp(labelled["time"].min()),
        last=pd.Timestamp(labelled["time"].max()),
        rows=len(labelled),
        symbols=tuple(sorted(labelled["symbol"].unique())),
    )
