"""jobs.narwhal.window: the keyed window scorer's state, fed real GOOG daily bars and the
currents job's per-bar indicator records for them in several interleavings; its features must equal
the batch ones bit for bit (``ml.features.scoring_matrix``) and its scores the batch scores
(``ml.artifacts.predict`` on the batch matrix), with a model trained on GOOG."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.narwhal.options import ModelSpec
from jobs.narwhal.scorer import Scorer, ScorerConfig
from jobs.narwhal.window import BAR_VALUES, FAMILIES, LOOKBACK, STREAM_FEATURES, SymbolWindow
from ml.features import scoring_matrix
from ml.models import LocalModelStore, ModelRecord
from streamlines.contracts.indicators import INDICATORS
from streamlines.contracts.timeframes import BarTimeframe
from tests.support.narwhal import (
    IndicatorRecord,
    batch_predictions,
    indicator_records,
    record_columns,
)


@dataclass(frozen=True)
class BarItem:
    t_ns: int
    values: tuple[float, ...]


Event = tuple[str, BarItem | IndicatorRecord]  # ("bar", BarItem) or ("indicators", record)


def bar_events(bars: pd.DataFrame) -> list[Event]:
    times = pd.to_datetime(bars["time"], utc=True).array.asi8
    rows = bars[list(BAR_VALUES)].itertuples(index=False, name=None)
    return [("bar", BarItem(int(t), tuple(row))) for t, row in zip(times, rows, strict=True)]


def bar_items(events: list[Event]) -> list[BarItem]:
    return [item for _, item in events if isinstance(item, BarItem)]


def indicator_events(bars: pd.DataFrame) -> list[Event]:
    return [("indicators", record) for record in indicator_records(bars)]


def feed(window: SymbolWindow, events: list[Event], batch: int = 1) -> pd.DataFrame:
    """Every event in order, scoring whenever ``batch`` bars are ready, then the end flush."""
    out = []
    for _, item in events:
        if isinstance(item, BarItem):
            window.add_bar(item.t_ns, item.values)
        else:
            window.add_indicators(INDICATORS, item.t_ns, record_columns(item))
        count = window.settled_count()
        if count >= batch:
            out.append(window.take(count))
    out.append(window.ready(flush=True))
    return pd.concat([o for o in out if len(o)], ignore_index=True)


def merged(sequences: list[list[Event]], seed: int) -> Iterator[Event]:
    """A random interleaving that keeps the order within each sequence."""
    rng = random.Random(seed)
    positions = [0] * len(sequences)
    while True:
        open_ = [i for i, seq in enumerate(sequences) if positions[i] < len(seq)]
        if not open_:
            return
        i = rng.choice(open_)
        yield sequences[i][positions[i]]
        positions[i] += 1


def as_currents_writes(bars: list[Event], records: list[Event]) -> list[Event]:
    """Live order: bar t, then the record of bar t - 1 (currents writes a bar's indicators
    once the next bar has come)."""
    by_time = {event[1].t_ns: event for event in records}
    out: list[Event] = []
    previous = -1
    for event in bars:
        out.append(event)
        if previous in by_time:
            out.append(by_time[previous])
        previous = event[1].t_ns
    return [*out, by_time[previous]]


def orderings(bars: pd.DataFrame) -> dict[str, list[Event]]:
    b, r = bar_events(bars), indicator_events(bars)
    streams = [b + r, r + b, as_currents_writes(b, r), list(merged([b, r], seed=3))]
    return dict(zip(ORDERS, streams, strict=True))


def assert_same_features(got: pd.DataFrame, bars: pd.DataFrame) -> None:
    batch = scoring_matrix({"GOOG": bars}, STREAM_FEATURES)
    assert got["t_ns"].tolist() == batch["time"].array.asi8.tolist()
    for name in STREAM_FEATURES:
        a, b = got[name].to_numpy(), batch[name].to_numpy()
        assert np.array_equal(a, b, equal_nan=True), f"{name} differs from batch"
        assert np.isfinite(b).sum() > len(b) * 0.8 or name == "dist_sma_200", name


ORDERS = (
    "indicators lag the bars",
    "indicators ahead of the bars",
    "as currents writes them",
    "random interleaving",
)


@pytest.mark.parametrize("order", ORDERS)
def test_stream_features_and_scores_equal_batch_on_goog(
    order: str, goog: pd.DataFrame, goog_model: ModelRecord, store_root: Path
) -> None:
    bars = goog if order == "as currents writes them" else goog.iloc[:700]
    got = feed(SymbolWindow(), orderings(bars)[order])
    assert_same_features(got, bars)

    scorer = Scorer(
        ScorerConfig(ModelSpec("id", goog_model.model_id), store_root, BarTimeframe.DAY_1)
    )
    rows = got.copy()
    rows.insert(0, "symbol", "GOOG")
    scored = scorer.score(rows)
    batch = batch_predictions({"GOOG": bars}, LocalModelStore(store_root).load(goog_model.model_id))
    assert scored["t_ns"].tolist() == batch["t_ns"].tolist()
    assert np.array_equal(scored["value"].to_numpy(), batch["value"].to_numpy())
    assert set(scored["model_id"]) == {goog_model.model_id}
    assert set(scored["horizon"]) == {5}
    assert set(scored["timeframe"]) == {"1Day"}


def test_batches_of_bars_give_the_same_features(goog: pd.DataFrame) -> None:
    bars = goog.iloc[:600]
    events = orderings(bars)["indicators ahead of the bars"]
    one = feed(SymbolWindow(), events, batch=1)
    many = feed(SymbolWindow(), events, batch=97)
    assert_same_features(many, bars)
    pd.testing.assert_frame_equal(one, many)


def test_a_bar_waits_for_its_record_or_a_later_one(goog: pd.DataFrame) -> None:
    assert FAMILIES == (INDICATORS,)  # one record per bar carries every family
    bars = goog.iloc[:260]
    window = SymbolWindow()
    items = bar_items(bar_events(bars))
    records = {r.t_ns: r for r in indicator_records(bars)}
    assert list(records) == [item.t_ns for item in items]  # every bar has one, its first too
    assert all(v is None for v in records[items[0].t_ns].values.values())
    for item in items[:252]:
        window.add_bar(item.t_ns, item.values)
    assert window.settled_count() == 0
    # Bar 250's record only: it settles the bars before it too (their records never came: NaN),
    # not bar 251.
    record = records[items[250].t_ns]
    window.add_indicators(INDICATORS, record.t_ns, record_columns(record))
    ready = window.ready()
    assert len(ready) == 251
    assert ready.loc[:249, "rsi_14"].isna().all()
    assert np.isfinite(ready.loc[250, ["rsi_14", "macd_hist", "bb_pct_b", "dist_sma_200"]]).all()
    assert len(window.recent) == LOOKBACK
    assert not window.indicators
    record = records[items[251].t_ns]
    window.add_indicators(INDICATORS, record.t_ns, record_columns(record))
    assert window.ready()["t_ns"].tolist() == [items[251].t_ns]


def test_repeats_and_late_records_are_ignored(goog: pd.DataFrame) -> None:
    window = SymbolWindow()
    items = bar_items(bar_events(goog.iloc[:30]))
    for item in items:
        assert window.add_bar(item.t_ns, item.values)
    first_t, first_values = items[0].t_ns, items[0].values
    assert not window.add_bar(first_t, first_values)
    assert not window.add_bar(items[10].t_ns, first_values)
    flushed = window.ready(flush=True)
    assert len(flushed) == 30
    assert flushed["rsi_14"].isna().all()
    assert flushed["ret_20"].isna().tolist() == [True] * 20 + [False] * 10
    window.add_indicators(INDICATORS, first_t, {"rsi_14": 50.0})  # its bar is scored already
    assert not window.indicators
    assert not window.add_bar(items[-1].t_ns, first_values)
