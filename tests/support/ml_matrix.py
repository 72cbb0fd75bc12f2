"""Feature matrices in the matrix contract built from real daily bars, for the ml unit tests.

Independent of ``ml.features``: a few bar features computed here with pandas (log returns
over lags, a rolling standard deviation, the relative range), and the label (the sign or the
size of the forward log return over ``horizon`` bars, NaN where the horizon runs past the
data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from streamlines.datasets import load_bars

FEATURES = ["ret_1", "ret_5", "ret_10", "ret_20", "vol_20", "range_rel"]


def symbol_frame(name: str, kind: str = "classification", horizon: int = 5) -> pd.DataFrame:
    bars = load_bars(name)
    close = bars["close"]
    log_close = np.log(close)
    frame = pd.DataFrame(index=bars.index)
    for lag in (1, 5, 10, 20):
        frame[f"ret_{lag}"] = log_close - log_close.shift(lag)
    frame["vol_20"] = frame["ret_1"].rolling(20).std()
    frame["range_rel"] = (bars["high"] - bars["low"]) / close
    forward = log_close.shift(-horizon) - log_close
    label = forward if kind == "regression" else (forward > 0).astype("float64")
    frame["label"] = label.where(forward.notna())
    frame.insert(0, "time", frame.index)
    frame.insert(0, "symbol", name)
    return frame.reset_index(drop=True)


def matrix(
    names: tuple[str, ...] = ("GOOG",),
    kind: str = "classification",
    horizon: int = 5,
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """Rows of ``names`` sorted by (time, symbol), index 0..n-1, features float64."""
    frames = [symbol_frame(name, kind, horizon) for name in names]
    result = pd.concat(frames, ignore_index=True)
    if start is not None:
        result = result[result["time"] >= pd.Timestamp(start, tz="UTC")]
    if end is not None:
        result = result[result["time"] < pd.Timestamp(end, tz="UTC")]
    result = result.sort_values(["time", "symbol"], kind="stable").reset_index(drop=True)
    return result[["symbol", "time", *FEATURES, "label"]]
