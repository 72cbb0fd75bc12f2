"""jobs.narwhal.scorer: resolving the model, scoring batches, and switching to a newer model
of the same config name without a restart (models trained on real GOOG daily features)."""

from __future__ import annotations

import logging
import tarfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.narwhal.options import ModelSpec
from jobs.narwhal.scorer import INPUT_COLUMNS, Scorer, ScorerConfig, resolve
from jobs.narwhal.window import STREAM_FEATURES
from ml.artifacts import MODEL_FILE, predict
from ml.features import scoring_matrix
from ml.models import LocalModelStore, ModelRecord
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError
from tests.support.narwhal import config, train_goog_model

DAY = BarTimeframe.DAY_1


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def rows(goog: pd.DataFrame) -> pd.DataFrame:
    """Feature rows as the keyed function sends them (symbol, t_ns, STREAM_FEATURES), the
    columns unnamed as Flink hands them to a pandas function."""
    matrix = scoring_matrix({"GOOG": goog}, STREAM_FEATURES)
    out = matrix.drop(columns="time")
    out.insert(1, "t_ns", matrix["time"].array.asi8)
    return out.set_axis(range(len(INPUT_COLUMNS)), axis=1)


def test_scores_equal_predict_and_carry_the_model(
    rows: pd.DataFrame, goog_model: ModelRecord, store_root: Path
) -> None:
    scorer = Scorer(ScorerConfig(ModelSpec("id", goog_model.model_id), store_root, DAY))
    scored = scorer.score(rows.iloc[500:1500])
    loaded = LocalModelStore(store_root).load(goog_model.model_id)
    named = rows.iloc[500:1500].set_axis(list(INPUT_COLUMNS), axis=1)
    assert np.array_equal(scored["value"].to_numpy(), predict(loaded, named))
    assert list(scored.columns) == ["symbol", "t_ns", "model_id", "timeframe", "horizon", "value"]
    assert scored["t_ns"].tolist() == named["t_ns"].tolist()
    assert set(scored["model_id"]) == {goog_model.model_id}
    assert len(scorer.score(rows.iloc[:0])) == 0


def test_latest_switches_to_a_newer_model_after_reload_seconds(
    rows: pd.DataFrame, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = train_goog_model(tmp_path, config("goog-latest"))
    clock = Clock()
    spec = ModelSpec("latest", "goog-latest")
    scorer = Scorer(ScorerConfig(spec, tmp_path, DAY, reload_seconds=30), clock=clock)
    before = scorer.score(rows.iloc[300:400])
    assert set(before["model_id"]) == {first.model_id}

    time.sleep(1.05)  # model ids and creation times are to the second
    newer = config("goog-latest", hyperparameters={"max_depth": 2, "num_round": 12, "seed": 2})
    second = train_goog_model(tmp_path, newer)
    clock.now = 29.0
    assert set(scorer.score(rows.iloc[300:400])["model_id"]) == {first.model_id}  # not yet
    clock.now = 30.0
    with caplog.at_level(logging.INFO, logger="jobs.narwhal.scorer"):
        after = scorer.score(rows.iloc[300:400])
    assert set(after["model_id"]) == {second.model_id}
    assert f"switched from model {first.model_id} to {second.model_id}" in caplog.text
    loaded = LocalModelStore(tmp_path).load(second.model_id)
    named = rows.iloc[300:400].set_axis(list(INPUT_COLUMNS), axis=1)
    assert np.array_equal(after["value"].to_numpy(), predict(loaded, named))
    assert not np.array_equal(after["value"].to_numpy(), before["value"].to_numpy())


def test_a_newer_model_the_stream_cannot_use_is_skipped(
    rows: pd.DataFrame, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = train_goog_model(tmp_path, config("goog-skip"))
    clock = Clock()
    scorer = Scorer(ScorerConfig(ModelSpec("latest", "goog-skip"), tmp_path, DAY, 10), clock=clock)
    time.sleep(1.05)
    minute = train_goog_model(tmp_path, config("goog-skip", timeframe="1Min"))
    clock.now = 10.0
    with caplog.at_level(logging.WARNING, logger="jobs.narwhal.scorer"):
        scored = scorer.score(rows.iloc[:10])
    assert set(scored["model_id"]) == {first.model_id}
    assert f"keeping model {first.model_id}" in caplog.text
    assert f"model {minute.model_id} was trained on 1Min bars, not 1Day" in caplog.text
    caplog.clear()
    clock.now = 20.0  # the next check: the same unusable model is not loaded and logged again
    with caplog.at_level(logging.WARNING, logger="jobs.narwhal.scorer"):
        assert set(scorer.score(rows.iloc[:10])["model_id"]) == {first.model_id}
    assert caplog.text == ""


def test_resolving_a_path_an_id_and_what_is_refused(
    goog_model: ModelRecord, store_root: Path, tmp_path: Path
) -> None:
    by_path = resolve(ModelSpec("path", goog_model.path), tmp_path / "unused")
    assert (by_path.model_id, by_path.timeframe, by_path.horizon) == (goog_model.model_id, DAY, 5)
    with pytest.raises(UserError, match="no model of the config 'nothing'"):
        resolve(ModelSpec("latest", "nothing"), store_root)
    with pytest.raises(UserError, match="trained on 1Day bars, not 1Min"):
        Scorer(
            ScorerConfig(ModelSpec("id", goog_model.model_id), store_root, BarTimeframe.MINUTE_1)
        )
    # SageMaker's bare archive: no metadata, so no timeframe or horizon.
    bare = tmp_path / "bare.tar.gz"
    with tarfile.open(goog_model.path) as source, tarfile.open(bare, "w:gz") as target:
        member = source.getmember(MODEL_FILE)
        target.addfile(member, source.extractfile(member))
    with pytest.raises(UserError, match="feature names are unknown"):
        resolve(ModelSpec("path", str(bare)), tmp_path)


def test_a_model_using_quotes_is_refused(tmp_path: Path) -> None:
    record = train_goog_model(
        tmp_path, config("goog-quotes", features=["ret_1", "vol_20", "spread_rel"])
    )
    with pytest.raises(UserError, match="uses spread_rel, which the stream job does not compute"):
        Scorer(ScorerConfig(ModelSpec("id", record.model_id), tmp_path, DAY))
