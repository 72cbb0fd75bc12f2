"""ml.results: backtest results kept with their model, written whole, read back equal."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from ml.backtest import BacktestSpec, run_backtest
from ml.results import BacktestStore, UnknownBacktest
from streamlines.datasets import load_bars
from streamlines.errors import UserError

START, END = datetime(2010, 1, 1, tzinfo=UTC), datetime(2011, 1, 1, tzinfo=UTC)


def _result():
    bars = load_bars("GOOG").loc["2010"]
    momentum = bars["close"].pct_change(5).fillna(0)
    frame = pd.DataFrame({"time": bars.index, "close": bars["close"].to_numpy(),
                          "prediction": (momentum > 0).astype(float).to_numpy()})  # fmt: skip
    return run_backtest({"GOOG": frame}, BacktestSpec(strategy="long_short", cost_bps=5))


def test_a_saved_backtest_reads_back_equal_and_is_listed_with_its_model(tmp_path):
    store = BacktestStore(tmp_path)
    saved = store.save("goog-20260101T000000-abcdef", START, END, _result())
    assert store.get(saved.backtest_id).to_json() == saved.to_json()
    assert [r.backtest_id for r in store.list_for("goog-20260101T000000-abcdef")] == [
        saved.backtest_id
    ]
    assert not list(tmp_path.rglob("*.tmp"))


def test_unknown_and_malformed_ids_are_refused(tmp_path):
    store = BacktestStore(tmp_path)
    with pytest.raises(UnknownBacktest, match="no backtest"):
        store.get("bt-20260101T000000-abcdef")
    with pytest.raises(UserError, match="is not a backtest id"):
        store.get("../../etc/passwd")


def test_delete_for_deletes_the_models_backtests_only(tmp_path):
    store = BacktestStore(tmp_path)
    gone_model, kept_model = "goog-20260101T000000-abcdef", "goog-20260101T000000-fedcba"
    gone = [store.save(gone_model, START, END, _result()) for _ in range(2)]
    kept = store.save(kept_model, START, END, _result())
    assert sorted(store.delete_for(gone_model)) == sorted(r.backtest_id for r in gone)
    assert store.list_for(gone_model) == []
    assert not (tmp_path / gone_model / "backtests").exists()
    assert [r.backtest_id for r in store.list_for(kept_model)] == [kept.backtest_id]
    with pytest.raises(UserError, match="no backtest"):
        store.get(gone[0].backtest_id)
    assert store.delete_for(gone_model) == []  # nothing left: nothing to do


def test_delete_for_refuses_a_malformed_model_id(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(UserError, match="is not a model id"):
        BacktestStore(tmp_path / "x").delete_for("../x")
