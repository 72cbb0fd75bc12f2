"""Walk-forward splits and local training on real daily bars (GOOG, S&P 500, NASDAQ)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from ml.config import ConfigError, SplitSpec, TrainingConfig, parse_config
from ml.train import (
    FINAL_ROUNDS_RULE,
    classification_metrics,
    regression_metrics,
    train_local,
    walk_forward_splits,
    xgboost_params,
)
from streamlines.errors import UserError
from tests.support.ml_matrix import FEATURES, matrix


def config(**overrides: Any) -> TrainingConfig:
    data: dict[str, Any] = {
        "name": "goog-test",
        "symbols": ["GOOG"],
        "start": "2004-01-01",
        "end": "2014-01-01",
        "features": FEATURES,
        "label": {"kind": "classification", "horizon": 5},
        "hyperparameters": {"max_depth": 3, "eta": 0.3, "num_round": 400},
        "splits": {"folds": 4, "min_train_fraction": 0.5},
    }
    data.update(overrides)
    return parse_config(data)


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return matrix()


@pytest.fixture(scope="module")
def trained(goog: pd.DataFrame) -> Any:
    return train_local(goog, config())


# --- splits --------------------------------------------------------------------------------


@pytest.mark.parametrize("horizon", [1, 5, 20, 60])
def test_no_training_label_looks_into_the_validation_block(
    goog: pd.DataFrame, horizon: int
) -> None:
    dates = pd.DatetimeIndex(goog["time"])  # one row per GOOG trading day, in order
    folds = walk_forward_splits(goog["time"], SplitSpec(folds=4, min_train_fraction=0.5), horizon)
    assert len(folds) == 4
    for fold in folds:
        first_validation = dates[fold.validation].min()
        # The bar each training label ends at, from the GOOG calendar itself.
        label_ends = dates[np.minimum(fold.train + horizon, len(dates) - 1)]
        assert (label_ends < first_validation).all()
        # Exactly `horizon` trading days lie between the last training day and the block.
        last_train = dates.get_loc(dates[fold.train].max())
        assert dates.get_loc(first_validation) - last_train - 1 == horizon
        # Expanding window: every row before the purge trains.
        np.testing.assert_array_equal(fold.train, np.arange(last_train + 1))


def test_validation_blocks_are_consecutive_and_cover_the_rest(goog: pd.DataFrame) -> None:
    folds = walk_forward_splits(goog["time"], SplitSpec(folds=3, min_train_fraction=0.6), 5)
    validation = np.concatenate([f.validation for f in folds])
    start = int(np.floor(len(goog) * 0.6))
    np.testing.assert_array_equal(validation, np.arange(start, len(goog)))
    sizes = [len(f.validation) for f in folds]
    assert max(sizes) - min(sizes) <= 1


def test_rows_of_one_time_stay_on_one_side_with_many_symbols() -> None:
    rows = matrix(("GOOG", "SP500", "NASDAQ"))
    times = rows["time"]
    folds = walk_forward_splits(times, SplitSpec(folds=4, min_train_fraction=0.5), 5)
    for fold in folds:
        train_times = set(times.iloc[fold.train])
        validation_times = set(times.iloc[fold.validation])
        assert not train_times & validation_times
        assert max(train_times) < min(validation_times)
        # Every row of a time is on the side its time is on.
        on_train = times.isin(train_times).to_numpy()
        assert on_train.sum() == len(fold.train)


def sparse_pair() -> pd.DataFrame:
    """GOOG every day and S&P 500 every fourth day: a symbol with gaps (as minute bars of a
    thinly traded symbol), real prices."""
    goog = matrix(("GOOG",))
    sp500 = matrix(("SP500",), start="2004-08-19", end="2013-03-02").iloc[::4]
    both = pd.concat([goog, sp500]).sort_values(["time", "symbol"], kind="stable")
    return both.reset_index(drop=True)


def leaking_rows(rows: pd.DataFrame, folds: list[Any], horizon: int) -> int:
    """Training rows whose label (`horizon` bars of their own symbol ahead) ends at or after
    the first validation time, counted with a per-symbol loop."""
    leaks = 0
    for fold in folds:
        first_validation = rows["time"].iloc[fold.validation].min()
        train = rows.iloc[fold.train]
        for symbol, own in train.groupby("symbol"):
            series = rows.loc[rows["symbol"] == symbol, "time"].reset_index(drop=True)
            position = {t: i for i, t in enumerate(series)}
            for time in own["time"]:
                end = position[time] + horizon
                if end >= len(series) or series[end] >= first_validation:
                    leaks += 1
    return leaks


def test_symbols_make_the_purge_exact_when_symbols_have_gaps() -> None:
    rows = sparse_pair()
    spec = SplitSpec(folds=3, min_train_fraction=0.5)
    by_times = walk_forward_splits(rows["time"], spec, 5)
    assert leaking_rows(rows, by_times, 5) > 0  # the sparse symbol's labels cross the edge
    exact = walk_forward_splits(rows["time"], spec, 5, symbols=rows["symbol"])
    assert leaking_rows(rows, exact, 5) == 0
    for loose, tight in zip(by_times, exact, strict=True):
        assert set(tight.train) <= set(loose.train)
        np.testing.assert_array_equal(tight.validation, loose.validation)


@pytest.mark.parametrize(
    ("rows", "folds", "horizon"),
    [(10, 6, 1), (40, 4, 20), (0, 1, 1)],
)
def test_too_few_rows_is_a_config_error_naming_the_field(
    rows: int, folds: int, horizon: int
) -> None:
    times = matrix()["time"].iloc[:rows]
    with pytest.raises(ConfigError, match=r"splits\.folds") as raised:
        walk_forward_splits(times, SplitSpec(folds=folds, min_train_fraction=0.5), horizon)
    assert "fewer folds" in str(raised.value)


def test_the_smallest_workable_split_is_accepted() -> None:
    times = matrix()["time"].iloc[:40]
    folds = walk_forward_splits(times, SplitSpec(folds=4, min_train_fraction=0.5), 19)
    assert len(folds[0].train) == 1


# --- training ------------------------------------------------------------------------------


def test_early_stopping_stops_each_fold(trained: Any) -> None:
    for fold in trained.folds:
        assert fold.rounds_run == fold.best_iteration + 1 + 20  # early_stopping_rounds
        assert fold.rounds_run < 400


def test_without_early_stopping_every_round_runs(goog: pd.DataFrame) -> None:
    cfg = config(hyperparameters={"num_round": 30, "early_stopping_rounds": None})
    model = train_local(goog, cfg)
    assert [f.rounds_run for f in model.folds] == [30] * 4
    assert model.best_iterations == [29] * 4
    assert model.num_round == 30


def test_final_model_rounds_are_the_mean_best_iteration(trained: Any) -> None:
    expected = round(np.mean([b + 1 for b in trained.best_iterations]))
    assert trained.num_round == max(1, expected)
    assert trained.booster.num_boosted_rounds() == trained.num_round
    assert trained.notes["num_round"] == FINAL_ROUNDS_RULE


def test_hyperparameters_reach_the_booster(goog: pd.DataFrame) -> None:
    cfg = config(
        hyperparameters={
            "num_round": 5,
            "max_depth": 2,
            "eta": 0.05,
            "lambda": 3.5,
            "alpha": 0.25,
            "gamma": 0.5,
            "min_child_weight": 2.0,
            "subsample": 0.8,
            "colsample_bytree": 0.9,
        }
    )
    model = train_local(goog, cfg)
    saved = json.loads(model.booster.save_config())["learner"]
    tree = saved["gradient_booster"]["tree_train_param"]
    assert saved["objective"]["name"] == "binary:logistic"
    assert float(tree["eta"]) == pytest.approx(0.05)
    assert int(tree["max_depth"]) == 2
    assert float(tree["reg_lambda"]) == pytest.approx(3.5)
    assert float(tree["reg_alpha"]) == pytest.approx(0.25)
    assert float(tree["gamma"]) == pytest.approx(0.5)
    assert float(tree["min_child_weight"]) == pytest.approx(2.0)
    assert float(tree["subsample"]) == pytest.approx(0.8)
    assert float(tree["colsample_bytree"]) == pytest.approx(0.9)
    assert xgboost_params(config(label={"kind": "regression", "horizon": 5}))["objective"] == (
        "reg:squarederror"
    )


def refit_fold(rows: pd.DataFrame, cfg: TrainingConfig, fold: Any, best: int) -> tuple[Any, Any]:
    """The fold's model refitted with plain xgboost on the same rows; its validation scores."""
    x = rows[FEATURES].to_numpy()
    y = rows["label"].to_numpy()
    params = xgboost_params(cfg)
    train = xgb.DMatrix(x[fold.train], label=y[fold.train], feature_names=FEATURES)
    booster = xgb.train(params, train, num_boost_round=best + 1)
    validation = xgb.DMatrix(x[fold.validation], label=y[fold.validation], feature_names=FEATURES)
    return y[fold.validation], booster.predict(validation)


def independent_classification(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Written differently: AUC by comparing every positive with every negative."""
    eps = 1e-15
    losses = [
        -np.log(max(min(pi, 1 - eps), eps)) if yi == 1 else -np.log(max(min(1 - pi, 1 - eps), eps))
        for yi, pi in zip(y, p, strict=True)
    ]
    pos, neg = p[y == 1], p[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    predicted = np.where(p >= 0.5, 1.0, 0.0)
    return {
        "logloss": float(np.mean(losses)),
        "auc": float(wins / (len(pos) * len(neg))),
        "accuracy": float(np.count_nonzero(predicted == y) / len(y)),
    }


def test_fold_metrics_equal_an_independent_computation(goog: pd.DataFrame, trained: Any) -> None:
    labelled = goog[goog["label"].notna()].reset_index(drop=True)
    cfg = config()
    folds = walk_forward_splits(labelled["time"], cfg.splits, 5, symbols=labelled["symbol"])
    for fold, result in zip(folds, trained.folds, strict=True):
        y, p = refit_fold(labelled, cfg, fold, result.best_iteration)
        expected = independent_classification(y, p)
        # Scores are float32: the refitted model's may differ in the last bit.
        assert result.metrics == pytest.approx(expected, rel=1e-6)
        assert result.validation_rows == len(fold.validation)
    assert trained.mean_metrics["auc"] == pytest.approx(
        np.mean([f.metrics["auc"] for f in trained.folds])
    )


def xgboost_eval(booster: xgb.Booster, data: xgb.DMatrix, metric: str) -> float:
    booster.set_param({"eval_metric": metric})
    return float(booster.eval(data).split(":")[-1])


def test_metrics_agree_with_xgboost_own_evaluation(goog: pd.DataFrame) -> None:
    labelled = goog[goog["label"].notna()]
    half = len(labelled) // 2
    train, test = labelled.iloc[:half], labelled.iloc[half:]
    cfg = config()
    dtrain = xgb.DMatrix(train[FEATURES], label=train["label"])
    dtest = xgb.DMatrix(test[FEATURES], label=test["label"])
    booster = xgb.train(xgboost_params(cfg), dtrain, num_boost_round=20)
    mine = classification_metrics(test["label"].to_numpy(), booster.predict(dtest))
    assert mine["logloss"] == pytest.approx(xgboost_eval(booster, dtest, "logloss"), rel=1e-5)
    assert mine["auc"] == pytest.approx(xgboost_eval(booster, dtest, "auc"), rel=1e-5)
    assert 1 - mine["accuracy"] == pytest.approx(xgboost_eval(booster, dtest, "error"), abs=1e-6)


def test_regression_metrics_on_real_returns() -> None:
    rows = matrix(kind="regression")
    cfg = config(label={"kind": "regression", "horizon": 5}, hyperparameters={"num_round": 50})
    model = train_local(rows, cfg)
    assert set(model.mean_metrics) == {"rmse", "mae"}
    labelled = rows[rows["label"].notna()]
    half = len(labelled) // 2
    dtrain = xgb.DMatrix(labelled[FEATURES].iloc[:half], label=labelled["label"].iloc[:half])
    dtest = xgb.DMatrix(labelled[FEATURES].iloc[half:], label=labelled["label"].iloc[half:])
    booster = xgb.train(xgboost_params(cfg), dtrain, num_boost_round=30)
    y, p = labelled["label"].iloc[half:].to_numpy(), booster.predict(dtest)
    mine = regression_metrics(y, p)
    errors = [(pi - yi) for pi, yi in zip(p.tolist(), y.tolist(), strict=True)]
    assert mine["rmse"] == pytest.approx((sum(e * e for e in errors) / len(errors)) ** 0.5)
    assert mine["mae"] == pytest.approx(sum(abs(e) for e in errors) / len(errors))
    assert mine["rmse"] == pytest.approx(xgboost_eval(booster, dtest, "rmse"), rel=1e-5)
    assert mine["mae"] == pytest.approx(xgboost_eval(booster, dtest, "mae"), rel=1e-5)


def test_importance_is_the_mean_gain_of_each_feature_split(trained: Any) -> None:
    assert list(trained.importance) == FEATURES
    nodes = trained.booster.trees_to_dataframe()
    splits = nodes[nodes["Feature"] != "Leaf"]
    gain = splits.groupby("Feature")["Gain"].mean()
    for name in FEATURES:
        assert trained.importance[name] == pytest.approx(gain.get(name, 0.0), rel=1e-5)


def test_data_range_of_the_labelled_rows(goog: pd.DataFrame, trained: Any) -> None:
    labelled = goog.dropna(subset=["label"])
    assert trained.data_range.first == labelled["time"].iloc[0]
    assert trained.data_range.last == labelled["time"].iloc[-1]
    assert trained.data_range.rows == len(labelled) == len(goog) - 5
    assert trained.data_range.symbols == ("GOOG",)


def test_training_is_deterministic_for_a_seed(goog: pd.DataFrame) -> None:
    cfg = config(hyperparameters={"num_round": 60, "subsample": 0.7, "colsample_bytree": 0.8})
    first, second = train_local(goog, cfg), train_local(goog, cfg)
    data = xgb.DMatrix(goog[FEATURES].to_numpy(), feature_names=FEATURES)
    assert first.metrics == second.metrics
    np.testing.assert_allclose(
        first.booster.predict(data), second.booster.predict(data), rtol=1e-12
    )
    other = train_local(
        goog,
        cfg.model_copy(
            update={"hyperparameters": cfg.hyperparameters.model_copy(update={"seed": 7})}
        ),
    )
    assert not np.allclose(other.booster.predict(data), first.booster.predict(data))


def test_a_matrix_without_a_feature_column_is_refused(goog: pd.DataFrame) -> None:
    with pytest.raises(UserError, match="vol_20"):
        train_local(goog.drop(columns=["vol_20"]), config())


def test_a_classification_label_that_is_not_0_or_1_is_refused() -> None:
    with pytest.raises(UserError, match="0 or 1"):
        train_local(matrix(kind="regression"), config())


def test_training_on_many_symbols() -> None:
    rows = matrix(("GOOG", "SP500", "NASDAQ"), start="2004-01-01", end="2013-01-01")
    cfg = config(symbols=["GOOG", "NASDAQ", "SP500"], hyperparameters={"num_round": 40})
    model = train_local(rows, cfg)
    labelled = rows.dropna(subset=["label"])
    assert model.data_range.symbols == ("GOOG", "NASDAQ", "SP500")
    assert model.data_range.rows == len(labelled)
    assert sum(f.validation_rows for f in model.folds) == len(
        labelled[labelled["time"] >= model.folds[0].validation_first]
    )
