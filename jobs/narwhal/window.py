"""One symbol's bars in a stream, in Python: bars wait until their indicators have arrived,
then get their features from ``ml.features.feature_frame`` over the last ``max_lookback + 1``
bars: the one feature code path, so a feature at bar t equals, bit for bit, the batch one
(``ml.features.scoring_matrix``) for the same bars and indicators. With the stream's feature
list, the look-back and the indicator families (``FAMILIES``) that the narwhal job uses.

No Flink here, so it is unit-tested directly.

When a bar's indicators are complete. The currents job writes one record per bar
(``streamlines.contracts.indicators``: metric ``indicators_<timeframe>``, values keyed
``<family>.<field>``, every family in it), each symbol's records in bar order, at every bar of
the series, its first included (values still warming up are null: RSI before bar 15, MACD
before 26, ...). So a bar's indicators are settled once its record, or a record of a later bar,
has arrived: its record is then here, or there is none (NaN, as in a batch run where the store
has none). The rule is kept per family (``FAMILIES``: a bar is settled once each family has a
record at or after it); the per-bar records make that one family, ``indicators``. A bar is
scored once it is settled and the bars before it are scored. At the end of a bounded run
(``flush``) the bars still waiting are scored with what has arrived.

The narwhal job applies this rule, and keeps the look-back, in the JVM (``jobs/java``
``SettledBars``: its integration test checks it against this window) and computes the features
in ``lookback.py``; the plain-Python consumer in ``benchmarks/narwhal.py`` uses this window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.features import INDICATOR_COLUMNS, feature_frame, max_lookback
from ml.features_catalogue import FEATURES
from streamlines.contracts.indicators import INDICATORS, field_key

BAR_KIND = "bar"  # the ``kind`` of a bar row; an indicator row's kind is its family
BAR_VALUES = ("open", "high", "low", "close", "volume")
# Every feature the stream can compute: all but those from ripples' quotes (``spread_rel``),
# so that a newer model with other features scores without a restart.
STREAM_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.source != "quotes")
LOOKBACK = max_lookback(STREAM_FEATURES)
# The key of each indicator input column (``ml.features.INDICATOR_COLUMNS``) in a per-bar
# record's values, e.g. ``rsi_14`` -> ``rsi.rsi_14``.
INDICATOR_KEYS: dict[str, str] = {
    column: field_key(family, field) for column, (family, field) in INDICATOR_COLUMNS.items()
}
# The families a bar waits for: one, the per-bar record that carries them all.
FAMILIES: tuple[str, ...] = (INDICATORS,)

BarValues = tuple[float, ...]  # BAR_VALUES, in that order


@dataclass
class SymbolWindow:
    """``add_bar`` and ``add_indicators`` in any interleaving (bars in time order), then
    ``ready`` for the features of the bars that can be scored now (or ``settled_count`` and
    ``take``, to score them in larger batches)."""

    lookback: int = LOOKBACK
    families: tuple[str, ...] = FAMILIES
    recent: list[tuple[int, BarValues]] = field(default_factory=list)  # the last scored bars
    pending: list[tuple[int, BarValues]] = field(default_factory=list)  # waiting, in order
    indicators: dict[int, dict[str, float]] = field(default_factory=dict)  # by bar time
    progress: dict[str, int] = field(default_factory=dict)  # family -> latest t_ns seen
    last_t: int = -1  # the last scored bar's time
    known_settled: int = 0  # a prefix of pending known to be settled (progress only grows)

    def add_bar(self, t_ns: int, values: Sequence[float | None]) -> bool:
        """Hold a bar; False (and nothing held) for one at or before the last bar held."""
        newest = self.pending[-1][0] if self.pending else self.last_t
        if t_ns <= newest:
            return False
        self.pending.append((t_ns, tuple(_float(v) for v in values)))
        return True

    def add_indicators(self, family: str, t_ns: int, values: Mapping[str, float | None]) -> None:
        """One currents record of ``family`` (``INDICATORS``: the per-bar record) at
        ``t_ns``: its ``values`` by input column (``ml.features.INDICATOR_COLUMNS``; None or
        NaN: still warming up)."""
        self.progress[family] = max(self.progress.get(family, t_ns), t_ns)
        if t_ns <= self.last_t:
            return  # its bar is scored already
        slot = self.indicators.setdefault(t_ns, {})
        for column, value in values.items():
            if value is not None and not math.isnan(value):
                slot[column] = float(value)

    def settled(self, t_ns: int) -> bool:
        return all(self.progress.get(family, -1) >= t_ns for family in self.families)

    def settled_count(self) -> int:
        """How many of the waiting bars can be scored now (a prefix: bars go in order)."""
        count = self.known_settled
        while count < len(self.pending) and self.settled(self.pending[count][0]):
            count += 1
        self.known_settled = count
        return count

    def ready(self, *, flush: bool = False) -> pd.DataFrame:
        """``t_ns`` and the ``STREAM_FEATURES`` of the bars that can be scored now (all that
        wait with ``flush``), oldest first; they leave the window's waiting list."""
        return self.take(len(self.pending) if flush else self.settled_count())

    def take(self, count: int) -> pd.DataFrame:
        """The features of the first ``count`` waiting bars, in one ``feature_frame`` call
        over them and the look-back before them."""
        if count == 0:
            return pd.DataFrame(columns=["t_ns", *STREAM_FEATURES])
        scored, self.pending = self.pending[:count], self.pending[count:]
        self.known_settled = max(self.known_settled - count, 0)
        features = feature_frame(self._frame(scored), STREAM_FEATURES).iloc[-count:]
        out = pd.DataFrame({"t_ns": np.array([t for t, _ in scored], dtype="int64")})
        for name in STREAM_FEATURES:
            out[name] = features[name].to_numpy()
        self.recent = (self.recent + scored)[-self.lookback :] if self.lookback else []
        self.last_t = scored[-1][0]
        self.indicators = {t: v for t, v in self.indicators.items() if t > self.last_t}
        return out

    def _frame(self, scored: list[tuple[int, BarValues]]) -> pd.DataFrame:
        """The input of ``feature_frame``: the recent bars (their look-back) and the bars to
        score, with the indicators of each (NaN where none arrived)."""
        rows = self.recent + scored
        times = np.array([t for t, _ in rows], dtype="int64")
        values = np.array([v for _, v in rows], dtype="float64").reshape(len(rows), -1)
        columns: dict[str, object] = {"time": pd.to_datetime(times, unit="ns", utc=True)}
        columns.update({column: values[:, i] for i, column in enumerate(BAR_VALUES)})
        for column in INDICATOR_COLUMNS:
            columns[column] = np.array(
                [self.indicators.get(t, {}).get(column, np.nan) for t, _ in rows], dtype="float64"
            )
        return pd.DataFrame(columns)


def _float(value: float | None) -> float:
    return math.nan if value is None else float(value)
