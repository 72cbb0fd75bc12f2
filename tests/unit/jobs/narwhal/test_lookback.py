"""jobs.narwhal.lookback: the features of bars that come with their look-back (what the job's
``settled_bars`` gives), in batches of any size and with symbols mixed, must equal the batch
features (``ml.features.scoring_matrix``) bit for bit, on real GOOG and S&P 500 daily bars."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from jobs.narwhal.lookback import HISTORY_INDEX, VALUE_COLUMNS, VALUES, window_features
from jobs.narwhal.window import LOOKBACK, STREAM_FEATURES
from ml.features import scoring_matrix
from streamlines.datasets import load_bars
from tests.references.features import with_indicators
from tests.support.narwhal import LookbackRow, lookback_rows


@pytest.fixture(scope="module")
def frames(goog: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"GOOG": goog.iloc[:500], "SP500": with_indicators(load_bars("SP500").iloc[:400])}


def mixed(frames: dict[str, pd.DataFrame], seed: int) -> list[LookbackRow]:
    """Every symbol's rows, each symbol's in time order, the symbols interleaved at random."""
    streams = [lookback_rows(symbol, bars, LOOKBACK) for symbol, bars in frames.items()]
    rng = random.Random(seed)
    out: list[LookbackRow] = []
    while streams := [s for s in streams if s]:
        out.append(rng.choice(streams).pop(0))
    return out


def features_in_batches(rows: list[LookbackRow], size: int) -> pd.DataFrame:
    parts = []
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        parts.append(
            window_features(
                [r.symbol for r in batch],
                [r.t_ns for r in batch],
                [r.times for r in batch],
                [r.values for r in batch],
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("size", [1, 97, 10_000])
def test_features_equal_batch_whatever_the_batches(frames, size: int) -> None:
    rows = mixed(frames, seed=size)
    got = features_in_batches(rows, size)
    assert got["symbol"].tolist() == [r.symbol for r in rows]
    assert got["t_ns"].tolist() == [r.t_ns for r in rows]
    batch = scoring_matrix(frames, STREAM_FEATURES)
    for symbol in frames:
        mine = got[got["symbol"] == symbol].reset_index(drop=True)
        theirs = batch[batch["symbol"] == symbol].reset_index(drop=True)
        assert mine["t_ns"].tolist() == theirs["time"].array.asi8.tolist()
        for name in STREAM_FEATURES:
            a, b = mine[name].to_numpy(), theirs[name].to_numpy()
            assert np.array_equal(a, b, equal_nan=True), f"{symbol} {name} (batches of {size})"
            assert np.isfinite(b).sum() > len(b) * 0.5, f"{symbol} {name}: mostly NaN"


def test_a_gap_in_a_symbols_rows_starts_a_new_run(goog) -> None:
    rows = lookback_rows("GOOG", goog.iloc[:120], LOOKBACK)
    kept = rows[:50] + rows[70:]  # 20 bars missing from the batch: rows 70.. bring their own
    got = window_features(
        [r.symbol for r in kept],
        [r.t_ns for r in kept],
        [r.times for r in kept],
        [r.values for r in kept],
    )
    whole = features_in_batches(rows, 1_000)
    expected = whole.iloc[[*range(50), *range(70, 120)]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    assert np.isnan(np.frombuffer(kept[0].values, VALUES)).any()  # warming up: no RSI yet
    assert len(kept[0].values) == len(VALUE_COLUMNS) * VALUES.itemsize  # no bar before it
    assert len(kept[-1].values) == (LOOKBACK * len(HISTORY_INDEX) + len(VALUE_COLUMNS)) * 8


def test_an_empty_batch_has_the_columns() -> None:
    got = window_features([], [], [], [])
    assert list(got.columns) == ["symbol", "t_ns", *STREAM_FEATURES]
    assert got.empty
