"""jobs.narwhal.udf: the job's pandas function, called as Flink calls it (a batch of rows as
pandas Series), scores GOOG's bars as batch scoring does (no Flink needed here; the job's
integration test runs it on the cluster)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jobs.narwhal.options import ModelSpec
from jobs.narwhal.scorer import ScorerConfig
from jobs.narwhal.udf import RESULT_FIELDS, ScoreWindows, score_windows
from jobs.narwhal.window import LOOKBACK
from ml.models import LocalModelStore, ModelRecord
from streamlines.contracts.events import Prediction
from streamlines.contracts.timeframes import BarTimeframe
from tests.support.narwhal import batch_predictions, lookback_rows


def test_a_batch_of_bars_is_scored_as_batch_scoring_does(
    goog: pd.DataFrame, goog_model: ModelRecord, store_root: Path
) -> None:
    bars = goog.iloc[:800]
    rows = lookback_rows("GOOG", bars, LOOKBACK)
    config = ScorerConfig(ModelSpec("id", goog_model.model_id), store_root, BarTimeframe.DAY_1)
    function = ScoreWindows(config)
    function.open(None)  # it reads nothing from the context
    got = function.eval(
        pd.Series([r.symbol for r in rows]),
        pd.Series([r.t_ns for r in rows], dtype="int64"),
        pd.Series([r.times for r in rows]),
        pd.Series([r.values for r in rows]),
    )
    assert list(got.columns) == list(RESULT_FIELDS)
    assert len(got) == len(rows)
    batch = batch_predictions({"GOOG": bars}, LocalModelStore(store_root).load(goog_model.model_id))
    assert batch["t_ns"].tolist() == [r.t_ns for r in rows]
    assert np.array_equal(got["value"].to_numpy(), batch["value"].to_numpy())
    assert set(got["model_id"]) == {goog_model.model_id}
    assert set(got["timeframe"]) == {"1Day"}
    assert set(got["horizon"]) == {5}


def test_its_result_and_the_bar_make_a_prediction() -> None:
    config = ScorerConfig(ModelSpec("id", "m"), Path("."), BarTimeframe.DAY_1)
    wrapped = score_windows(config)
    assert ["symbol", "t_ns", *RESULT_FIELDS] == list(Prediction.model_fields)
    assert wrapped._func_type == "pandas"
