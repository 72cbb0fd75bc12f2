"""ml.predict: batch scoring of frames (the one feature path, then the model) and the
prediction events it publishes, on real GOOG daily bars."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from ml.artifacts import load_artifact, predict, write_artifact
from ml.config import parse_config
from ml.features import build_matrix, feature_frame
from ml.predict import model_horizon, model_timeframe, score_frames, to_events
from ml.train import train_local
from streamlines.contracts.time import datetime_to_ns
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.datasets import load_bars
from tests.references.features import with_indicators

CONFIG = parse_config(
    {
        "name": "goog",
        "symbols": ["GOOG"],
        "start": "2005-06-01",
        "end": "2010-01-01",
        "label": {"kind": "classification", "horizon": 5},
        "hyperparameters": {"num_round": 30, "max_depth": 3},
        "splits": {"folds": 2},
    }
)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {"GOOG": with_indicators(load_bars("GOOG"))}


@pytest.fixture(scope="module")
def model(frames, tmp_path_factory):
    trained = train_local(build_matrix(frames, CONFIG), CONFIG)
    folder = tmp_path_factory.mktemp("model")
    return load_artifact(write_artifact(trained, CONFIG, folder))


def test_scores_equal_the_model_on_the_features_of_each_bar_in_range(frames, model):
    start, end = datetime(2010, 1, 4, tzinfo=UTC), datetime(2011, 1, 1, tzinfo=UTC)
    scored = score_frames(model, frames, start, end)
    bars = frames["GOOG"]
    inside = bars[(bars["time"] >= start) & (bars["time"] < end)]
    assert scored["time"].tolist() == inside["time"].tolist()
    # The same features computed on the whole history, row by row, then the model.
    features = feature_frame(bars, list(model.feature_names)).set_index("time")
    expected = predict(model, features.loc[inside["time"]].reset_index())
    np.testing.assert_array_equal(scored["prediction"].to_numpy(), expected.astype("float64"))


def test_events_carry_the_bar_start_model_and_horizon(frames, model):
    start, end = datetime(2010, 1, 4, tzinfo=UTC), datetime(2010, 1, 9, tzinfo=UTC)
    scored = score_frames(model, frames, start, end)
    events = to_events(scored, "goog-x", model_timeframe(model), model_horizon(model))
    assert model_timeframe(model) is BarTimeframe.DAY_1
    assert [e.t_ns for e in events] == [datetime_to_ns(t) for t in scored["time"]]
    assert {(e.symbol, e.model_id, e.timeframe, e.horizon) for e in events} == {
        ("GOOG", "goog-x", "1Day", 5)
    }
    assert [e.value for e in events] == scored["prediction"].tolist()


def test_an_empty_range_scores_nothing(frames, model):
    start = datetime(2020, 1, 1, tzinfo=UTC)
    scored = score_frames(model, frames, start, datetime(2020, 2, 1, tzinfo=UTC))
    assert scored.empty
    assert to_events(scored, "goog-x", BarTimeframe.DAY_1, 5) == []
