"""Narwhal's features, labels and matrices (``ml/features.py``) on real GOOG and S&P 500 daily
bars, against the loop-based reference in ``tests/references/features.py`` (indicator inputs
from ``tests/references/currents.py``, as the currents job computes them)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml.config import ConfigError, TrainingConfig, parse_config
from ml.features import (
    HISTORY_COLUMNS,
    INDICATOR_COLUMNS,
    build_matrix,
    feature_frame,
    label,
    max_lookback,
    scoring_matrix,
)
from ml.features_catalogue import DEFAULT_FEATURES, FEATURE_NAMES
from streamlines.datasets import load_bars
from streamlines.errors import UserError
from tests.references.features import expected_features, forward_label, with_indicators

ALL = list(FEATURE_NAMES)


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return with_indicators(load_bars("GOOG"))


@pytest.fixture(scope="module")
def sp500() -> pd.DataFrame:
    return with_indicators(load_bars("SP500"))


@pytest.fixture(scope="module")
def goog_features(goog: pd.DataFrame) -> pd.DataFrame:
    return feature_frame(goog, ALL)


def _config(**overrides: Any) -> TrainingConfig:
    data: dict[str, Any] = {
        "name": "t",
        "symbols": ["GOOG", "SP500"],
        "start": "2005-01-01",
        "end": "2013-01-01",
        "features": ALL,
        "label": {"kind": "regression", "horizon": 5},
    }
    data.update(overrides)
    return parse_config(data)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit, NaN where the other is NaN."""
    return bool(np.array_equal(a, b, equal_nan=True))


# --- each feature against the reference ---------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_each_feature_matches_the_reference_on_goog(
    name: str, goog: pd.DataFrame, goog_features: pd.DataFrame
) -> None:
    if name == "spread_rel":  # GOOG daily has no quotes: a relative spread stand-in
        bars = goog.assign(spread_rel=(goog.high - goog.low) / (goog.high + goog.low) / 50)
        got = feature_frame(bars, [name])[name].to_numpy()
        want = np.array(expected_features(bars)[name])
    else:
        got = goog_features[name].to_numpy()
        want = np.array(expected_features(goog)[name])
    assert len(got) == len(goog)
    assert np.array_equal(np.isnan(got), np.isnan(want)), f"{name}: NaN at other rows"
    known = ~np.isnan(want)
    assert known.sum() > len(goog) * 0.9, f"{name}: too few values to check"
    np.testing.assert_allclose(got[known], want[known], rtol=1e-11, atol=1e-14, err_msg=name)


def test_warm_up_rows_are_nan_exactly_as_long_as_the_lookback(
    goog_features: pd.DataFrame,
) -> None:
    first = {name: int(np.argmax(goog_features[name].notna())) for name in DEFAULT_FEATURES}
    assert first["ret_1"] == 1
    assert first["ret_20"] == 20
    assert first["vol_20"] == 20
    assert first["volume_z_20"] == 19
    assert first["range_rel"] == 0
    # Indicators as the currents job reports them: RSI from bar 15, MACD histogram from 34,
    # Bollinger from 20, SMA(200) from 200.
    assert first["rsi_14"] == 14
    assert first["macd_hist"] == 33
    assert first["bb_pct_b"] == 19
    assert first["dist_sma_200"] == 199


def test_the_output_is_time_then_the_features_in_the_given_order(goog: pd.DataFrame) -> None:
    order = ["vol_20", "ret_1", "dist_ema_50"]
    frame = feature_frame(goog, order)
    assert list(frame.columns) == ["time", *order]
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    assert (frame["time"] == goog["time"]).all()
    assert all(frame[c].dtype == np.float64 for c in order)
    assert list(frame.index) == list(range(len(goog)))


def test_a_missing_indicator_column_makes_its_features_nan(goog: pd.DataFrame) -> None:
    bars = goog.drop(columns=list(INDICATOR_COLUMNS))
    frame = feature_frame(bars, ALL)
    for name in ("rsi_14", "macd_hist", "bb_pct_b", "dist_sma_20", "dist_ema_50", "spread_rel"):
        assert frame[name].isna().all(), name
    assert frame["ret_1"].notna().sum() == len(goog) - 1


def test_equal_volumes_and_flat_bands_have_defined_values(goog: pd.DataFrame) -> None:
    bars = goog.iloc[:60].copy()
    bars.loc[10:40, "volume"] = 1_000.0
    bars.loc[30:35, "bollinger_upper"] = bars.loc[30:35, "close"]
    bars.loc[30:35, "bollinger_lower"] = bars.loc[30:35, "close"]
    frame = feature_frame(bars, ["volume_z_20", "bb_pct_b"])
    assert (frame.loc[29:40, "volume_z_20"] == 0.0).all()  # 20 equal volumes
    assert frame.loc[41, "volume_z_20"] != 0.0
    assert (frame.loc[30:35, "bb_pct_b"] == 0.5).all()


# --- no look-ahead -------------------------------------------------------------------------


def test_changing_later_bars_never_changes_a_feature_at_t(
    goog: pd.DataFrame, goog_features: pd.DataFrame
) -> None:
    rng = np.random.default_rng(12)
    numeric = [c for c in goog.columns if c != "time"]
    for t in [0, 1, 19, 20, 21, 199, 200, *rng.integers(0, len(goog) - 1, 30)]:
        perturbed = goog.copy()
        later = perturbed.index > t
        factors = rng.uniform(0.5, 2.0, size=(int(later.sum()), len(numeric)))
        perturbed.loc[later, numeric] = perturbed.loc[later, numeric].to_numpy() * factors
        frame = feature_frame(perturbed, ALL)
        for name in ALL:
            got = frame[name].to_numpy()[: t + 1]
            assert _same(got, goog_features[name].to_numpy()[: t + 1]), (name, t)
        # ...and the change does reach the later rows (the perturbation is not a no-op).
        assert not _same(frame["ret_1"].to_numpy(), goog_features["ret_1"].to_numpy())


def test_a_feature_needs_only_its_lookback_window_bit_for_bit(
    goog: pd.DataFrame, goog_features: pd.DataFrame
) -> None:
    """What a stream job holding the last lookback + 1 bars computes equals the batch value."""
    keep = max_lookback(ALL) + 1
    assert keep == 21
    for t in range(keep - 1, len(goog), 97):
        window = feature_frame(goog.iloc[t - keep + 1 : t + 1], ALL)
        for name in ALL:
            assert _same(window[name].to_numpy()[-1:], goog_features[name].to_numpy()[t : t + 1]), (
                name,
                t,
            )


def test_before_t_a_feature_reads_only_the_history_columns(
    goog: pd.DataFrame, goog_features: pd.DataFrame
) -> None:
    """Every other input column blanked at the bars before t: the features at t are the same,
    bit for bit (what the stream's look-back relies on: it sends only these columns of them)."""
    keep = max_lookback(ALL) + 1
    others = [c for c in goog.columns if c not in ("time", *HISTORY_COLUMNS)]
    assert {"high", "rsi_14"} <= set(others)
    for t in range(keep - 1, len(goog), 97):
        window = goog.iloc[t - keep + 1 : t + 1].copy()
        window.iloc[:-1, [window.columns.get_loc(c) for c in others]] = np.nan
        got = feature_frame(window, ALL)
        for name in ALL:
            assert _same(got[name].to_numpy()[-1:], goog_features[name].to_numpy()[t : t + 1]), (
                name,
                t,
            )


# --- labels --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("horizon", [1, 5, 20])
def test_label_matches_the_reference_on_goog(kind: str, horizon: int, goog: pd.DataFrame) -> None:
    got = label(goog["close"], horizon, kind)
    want = np.array(forward_label(goog["close"].tolist(), horizon, kind))
    assert got.index.equals(goog.index)
    assert got.dtype == np.float64
    assert got.iloc[-horizon:].isna().all()
    assert got.iloc[:-horizon].notna().all()
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12, atol=0)
    if kind == "classification":
        assert set(got.dropna().unique()) == {0.0, 1.0}


def test_a_label_is_exactly_the_log_return_h_bars_later(goog: pd.DataFrame) -> None:
    close = goog["close"]
    got = label(close, 5, "regression")
    assert got.iloc[100] == math.log(close.iloc[105] / close.iloc[100])
    assert label(close, 5, "classification").iloc[100] == float(close.iloc[105] > close.iloc[100])


def test_a_label_with_more_horizon_than_data_is_all_nan() -> None:
    assert label(pd.Series([1.0, 2.0, 3.0]), 3, "regression").isna().all()


@pytest.mark.parametrize(("horizon", "kind"), [(0, "regression"), (1, "sign")])
def test_a_bad_label_spec_is_refused(horizon: int, kind: str) -> None:
    with pytest.raises(ValueError, match="horizon" if horizon == 0 else "kind"):
        label(pd.Series([1.0, 2.0]), horizon, kind)


# --- the matrix ----------------------------------------------------------------------------


def test_build_matrix_over_goog_and_sp500(goog: pd.DataFrame, sp500: pd.DataFrame) -> None:
    config = _config()
    frames = {"GOOG": goog, "SP500": sp500}
    matrix = build_matrix(frames, config)

    assert list(matrix.columns) == ["symbol", "time", *ALL, "label"]
    assert str(matrix["time"].dtype) == "datetime64[ns, UTC]"
    assert matrix["symbol"].dtype == object
    assert all(matrix[c].dtype == np.float64 for c in [*ALL, "label"])
    assert list(matrix.index) == list(range(len(matrix)))
    keys = list(zip(matrix["time"], matrix["symbol"], strict=True))
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert matrix["label"].notna().all()

    for symbol, bars in frames.items():
        in_range = bars[(bars.time >= config.start) & (bars.time < config.end)]
        rows = matrix[matrix.symbol == symbol].reset_index(drop=True)
        assert len(rows) == len(in_range) - 5  # the last 5 bars' horizon runs past the end
        assert (rows["time"].to_numpy() == in_range["time"].to_numpy()[:-5]).all()
        # Features from the whole frame (bars before start give the look-back)...
        full = feature_frame(bars, ALL).set_index("time").loc[rows["time"]]
        for name in ALL:
            assert _same(rows[name].to_numpy(), full[name].to_numpy()), (symbol, name)
        assert rows["ret_20"].notna().all()  # the first rows of the range have a look-back
        # ...labels from the closes inside the range only.
        want = forward_label(in_range["close"].tolist(), 5, "regression")[:-5]
        np.testing.assert_allclose(rows["label"].to_numpy(), want, rtol=1e-12, atol=0)


def test_build_matrix_keeps_rows_with_missing_features(goog: pd.DataFrame) -> None:
    config = _config(symbols=["GOOG"], start="2004-01-01", features=["dist_sma_200", "ret_1"])
    matrix = build_matrix({"GOOG": goog}, config)
    assert len(matrix) == len(goog[goog.time < config.end]) - 5
    assert matrix["dist_sma_200"].isna().sum() == 199
    assert list(matrix.columns) == ["symbol", "time", "dist_sma_200", "ret_1", "label"]


def test_scoring_matrix_has_every_bar_and_no_label(goog: pd.DataFrame, sp500: pd.DataFrame) -> None:
    features = ["ret_5", "bb_pct_b"]
    matrix = scoring_matrix({"SP500": sp500, "GOOG": goog}, features)
    assert list(matrix.columns) == ["symbol", "time", *features]
    assert len(matrix) == len(goog) + len(sp500)
    keys = list(zip(matrix["time"], matrix["symbol"], strict=True))
    assert keys == sorted(keys)
    rows = matrix[matrix.symbol == "GOOG"]
    assert _same(rows["ret_5"].to_numpy(), feature_frame(goog, features)["ret_5"].to_numpy())
    assert list(matrix.index) == list(range(len(matrix)))


def test_scoring_matrix_of_nothing_is_an_empty_matrix() -> None:
    matrix = scoring_matrix({}, ["ret_1"])
    assert list(matrix.columns) == ["symbol", "time", "ret_1"]
    assert matrix.empty
    assert str(matrix["time"].dtype) == "datetime64[ns, UTC]"


# --- errors --------------------------------------------------------------------------------


def test_a_range_without_bars_names_start_and_end(goog: pd.DataFrame) -> None:
    config = _config(symbols=["GOOG"], start="2020-01-01", end="2021-01-01")
    with pytest.raises(ConfigError, match="`start`, `end`") as caught:
        build_matrix({"GOOG": goog}, config)
    assert "GOOG" in str(caught.value)


def test_a_horizon_longer_than_the_data_names_label_horizon(goog: pd.DataFrame) -> None:
    config = _config(symbols=["GOOG"], start="2012-12-01", label={"horizon": 30})
    count = int(((goog.time >= config.start) & (goog.time < config.end)).sum())
    assert count == 20
    with pytest.raises(ConfigError, match=r"`label\.horizon`: 30 bars ahead, but GOOG has only 20"):
        build_matrix({"GOOG": goog}, config)
    with pytest.raises(ConfigError, match=r"`label\.horizon`"):
        build_matrix({"GOOG": goog}, _config(symbols=["GOOG"], start="2012-12-01",
                                             label={"horizon": count}))  # fmt: skip
    one = _config(symbols=["GOOG"], start="2012-12-01", label={"horizon": count - 1})
    assert len(build_matrix({"GOOG": goog}, one)) == 1


def test_a_symbol_without_frame_names_symbols(goog: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="`symbols`: no bars loaded for SP500"):
        build_matrix({"GOOG": goog}, _config())


def test_an_unknown_feature_names_features(goog: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="`features`: unknown feature"):
        feature_frame(goog, ["ret_1", "ret_2"])


def test_bars_out_of_order_or_without_a_column_are_refused(goog: pd.DataFrame) -> None:
    with pytest.raises(UserError, match="time order"):
        feature_frame(goog.iloc[::-1], ["ret_1"])
    with pytest.raises(UserError, match="time order"):
        feature_frame(pd.concat([goog.iloc[:5], goog.iloc[4:6]]), ["ret_1"])
    with pytest.raises(UserError, match="no column"):
        feature_frame(goog.drop(columns=["volume"]), ["ret_1"])


def test_naive_times_are_read_as_utc(goog: pd.DataFrame) -> None:
    bars = goog.assign(time=goog["time"].dt.tz_localize(None))
    frame = feature_frame(bars, ["ret_1"])
    assert (frame["time"] == goog["time"]).all()
    assert frame["time"].iloc[0] == datetime(2004, 8, 19, tzinfo=UTC)
