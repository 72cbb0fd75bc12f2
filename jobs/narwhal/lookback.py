"""The features of bars that come with their look-back, as the narwhal job's SQL gives them
(``settled_bars``: each bar with the ``LOOKBACK`` bars before it), a batch of rows at a time:
per symbol, the rows are rebuilt into runs of consecutive bars and each run gets its features
from one ``ml.features.feature_frame`` call over its bars and the look-back before its first.
Each feature at bar t depends on the bars of its window only (``ml.features``), so it equals,
bit for bit, the batch one (``ml.features.scoring_matrix``) for the same bars and indicators.

No Flink here (``udf.py`` calls it), so it is unit-tested directly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from jobs.narwhal.window import BAR_VALUES, STREAM_FEATURES
from ml.features import HISTORY_COLUMNS, INDICATOR_COLUMNS, feature_frame

# A bar's values in a row's ``values``: the bar's, then its indicator inputs.
VALUE_COLUMNS: tuple[str, ...] = (*BAR_VALUES, *INDICATOR_COLUMNS)
WIDTH = len(VALUE_COLUMNS)
# What the bars before a row's bar carry: the columns features read before t (all of them
# were ~4x the bytes between the JVM and Python, for values no feature reads).
HISTORY_INDEX = [VALUE_COLUMNS.index(c) for c in HISTORY_COLUMNS]

# A row's look-back as settled_bars packs it: its bars' times (little-endian int64s), and as
# little-endian float64s (NaN where a bar has none) the HISTORY_COLUMNS of the bars before its
# bar, bar after bar, then the VALUE_COLUMNS of its bar.
TIMES = np.dtype("<i8")
VALUES = np.dtype("<f8")
ROW_BYTES = WIDTH * VALUES.itemsize


def window_features(
    symbols: Sequence[str],
    t_ns: Sequence[int] | np.ndarray,
    times: Sequence[bytes],
    values: Sequence[bytes],
) -> pd.DataFrame:
    """``symbol``, ``t_ns`` and the ``STREAM_FEATURES`` of each row, in the rows' order. Row i
    is bar ``t_ns[i]`` of ``symbols[i]`` with the bars before it: ``times[i]`` (oldest first,
    ending with ``t_ns[i]``) and ``values[i]``, the ``HISTORY_COLUMNS`` of the bars before it
    and the ``VALUE_COLUMNS`` of bar ``t_ns[i]``, packed (``TIMES``, ``VALUES``)."""
    count = len(t_ns)
    out = np.full((count, len(STREAM_FEATURES)), np.nan)
    by_symbol: dict[str, list[int]] = {}
    for i, symbol in enumerate(symbols):
        by_symbol.setdefault(symbol, []).append(i)
    for rows in by_symbol.values():
        for run in _runs(rows, times):
            out[run] = _run_features(run, times, values)
    frame = pd.DataFrame(out, columns=list(STREAM_FEATURES))
    frame.insert(0, "t_ns", np.asarray(t_ns, dtype="int64"))
    frame.insert(0, "symbol", np.asarray(symbols, dtype=object))
    return frame


def _runs(rows: list[int], times: Sequence[bytes]) -> list[list[int]]:
    """One symbol's rows split where a row's previous bar is not the bar of the row before."""
    size = TIMES.itemsize
    runs: list[list[int]] = []
    for i in rows:
        window = times[i]
        if runs and len(window) > size and window[-2 * size : -size] == times[runs[-1][-1]][-size:]:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _run_features(run: list[int], times: Sequence[bytes], values: Sequence[bytes]) -> np.ndarray:
    """The features of the run's bars: one ``feature_frame`` over the first row's look-back
    (its history columns; NaN in the others, which no feature reads before t) and the bar of
    each row of the run."""
    first = run[0]
    size = TIMES.itemsize
    bar_times = np.frombuffer(b"".join([times[first], *(times[i][-size:] for i in run[1:])]), TIMES)
    before = len(times[first]) // size - 1
    bar_values = np.full((len(bar_times), WIDTH), np.nan)
    history = np.frombuffer(values[first], VALUES, count=before * len(HISTORY_INDEX))
    bar_values[:before, HISTORY_INDEX] = history.reshape(before, len(HISTORY_INDEX))
    own = np.frombuffer(b"".join(values[i][-ROW_BYTES:] for i in run), VALUES)
    bar_values[before:] = own.reshape(len(run), WIDTH)
    columns: dict[str, object] = {"time": pd.to_datetime(bar_times, unit="ns", utc=True)}
    columns.update({name: bar_values[:, k] for k, name in enumerate(VALUE_COLUMNS)})
    features = feature_frame(pd.DataFrame(columns), STREAM_FEATURES)
    return features[list(STREAM_FEATURES)].to_numpy("float64")[-len(run) :]
