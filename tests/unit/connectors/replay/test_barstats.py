"""Trade counts and VWAPs kept on disk: a restarted server serves the same bars without
generating trades again, and anything that could change a value reads another file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from connectors.replay.barstats import BarStats, BarStatsStore
from connectors.replay.feed import SymbolFeed, SynthConfig
from connectors.replay.timeframe import AlpacaTimeframe
from connectors.replay.universe import build_universe, load_user_file

DAY = AlpacaTimeframe(1, "Day")


def _daily(feed: SymbolFeed, first: int, last: int, adjusted: bool = False):
    (bars,) = feed.iter_bars(DAY, int(feed.t[first]), int(feed.t[last]), adjusted=adjusted)
    return bars


def _no_trades(self, i):
    raise AssertionError(f"generated the trades of bar {i}")


def test_a_restarted_server_serves_the_same_bars_without_generating_trades(tmp_path, monkeypatch):
    store = BarStatsStore(tmp_path)
    plain = build_universe(symbols=["GOOG", "SYN0001"]).get("SYN0001")
    first = build_universe(symbols=["GOOG", "SYN0001"], stats_store=store).get("SYN0001")
    assert plain is not None
    assert first is not None
    expected = _daily(plain, 0, 299)
    served = _daily(first, 0, 299)
    assert len(list(tmp_path.glob("*.npz"))) == 1

    monkeypatch.setattr(SymbolFeed, "_make_trades", _no_trades)
    again = build_universe(symbols=["GOOG", "SYN0001"], stats_store=store).get("SYN0001")
    assert again is not None
    for bars in (served, _daily(again, 0, 299)):
        assert np.array_equal(bars.trade_count, expected.trade_count)
        assert np.array_equal(bars.vwap, expected.vwap)  # exactly: stored as computed
    adjusted = _daily(again, 0, 299, adjusted=True)
    assert np.array_equal(adjusted.vwap, _daily(plain, 0, 299, adjusted=True).vwap)
    with pytest.raises(AssertionError, match="generated the trades of bar 300"):
        _daily(again, 0, 300)  # bars never asked for are still generated when first asked


def test_stats_of_bars_asked_for_later_are_added_to_the_file(tmp_path):
    store = BarStatsStore(tmp_path)
    feed = build_universe(symbols=["GOOG"], stats_store=store).get("GOOG")
    assert feed is not None
    _daily(feed, 0, 9)
    _daily(feed, 20, 29)
    key = feed.stats_fingerprint()
    assert key is not None  # a data set's bars: their stats are kept on disk
    stats = store.load(key, len(feed))
    assert stats is not None
    known = np.flatnonzero(stats.counts >= 0).tolist()
    assert known == [*range(10), *range(20, 30)]
    assert np.all(stats.counts[known] == 780)


def test_another_seed_or_rate_reads_another_file(tmp_path):
    def key(**synth):
        universe = build_universe(symbols=["SYN0002"], synth=SynthConfig(**synth))
        feed = universe.get("SYN0002")
        assert feed is not None
        return feed.stats_fingerprint()

    keys = {key(), key(seed=8), key(trades_per_minute=3.0), key(max_trades_per_bar=100)}
    assert len(keys) == 4
    assert key() == key()


def test_recorded_trades_are_not_kept(tmp_path):
    path = tmp_path / "abc.csv"
    pd.DataFrame(
        {"timestamp": ["2020-01-02T15:00:00Z", "2020-01-02T15:01:00Z"], "price": [1, 2], "size": 1}
    ).to_csv(path, index=False)
    (feed,) = load_user_file(path, SynthConfig())
    assert feed.stats_fingerprint() is None


def test_unreadable_or_mismatched_files_are_ignored(tmp_path):
    store = BarStatsStore(tmp_path)
    (tmp_path / "broken.npz").write_bytes(b"not a zip file")
    assert store.load("broken", 3) is None
    assert store.load("missing", 3) is None
    store.save("short", BarStats(np.array([1, 2], np.int64), np.array([1.5, 2.5])))
    assert store.load("short", 3) is None
    stats = store.load("short", 2)
    assert stats is not None
    assert stats.counts.tolist() == [1, 2]
    assert stats.vwap.tolist() == [1.5, 2.5]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_unwritable_directory_only_warns(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = BarStatsStore(blocker / "stats")  # a directory under a file cannot be made
    store.save("k", BarStats(np.array([1], np.int64), np.array([1.0])))
    assert "cannot keep bar stats" in caplog.text
