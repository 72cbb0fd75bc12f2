"""The real data sets, the feeds built on them, and users' own files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from connectors.replay.feed import SynthConfig
from connectors.replay.timeframe import AlpacaTimeframe
from connectors.replay.universe import UniverseError, build_universe, load_user_file
from streamlines.datasets import dataset_names, load_bars, load_daily_bars


@pytest.mark.parametrize("name", dataset_names())
def test_datasets_are_utc_indexed_ohlcv(name):
    bars = load_bars(name)
    assert str(bars.index.tz) == "UTC"
    assert bars.index.is_monotonic_increasing
    assert {"open", "high", "low", "close", "volume"} <= set(bars.columns)
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()


def test_daily_loader_known_values():
    goog = load_daily_bars("GOOG")
    assert goog.iloc[0].to_dict() == {
        "open": 100.0,
        "high": 104.06,
        "low": 95.96,
        "close": 100.34,
        "volume": 22351900.0,
    }
    assert "adj_close" in load_daily_bars("SP500").columns
    with pytest.raises(ValueError, match="not daily"):
        load_daily_bars("EURUSD")
    with pytest.raises(KeyError, match="unknown dataset"):
        load_bars("NOPE")


def test_universe_pads_with_labelled_synthetic_tickers():
    universe = build_universe(size=6)
    assert universe.symbols("stock") == ["GOOG", "NASDAQ", "SP500", "SYN0001", "SYN0002", "SYN0003"]
    assert universe.symbols("crypto") == ["BTC/USD", "EUR/USD"]
    synthetic, real = universe.get("SYN0001"), universe.get("GOOG")
    assert synthetic is not None
    assert real is not None
    assert synthetic.description.startswith("synthetic")
    assert real.description.startswith("real")
    with pytest.raises(UniverseError, match="unknown symbol"):
        build_universe(symbols=["AAPL"])


def test_feed_bars_at_source_coarser_and_finer_timeframes():
    feed = build_universe(symbols=["GOOG"]).get("GOOG")
    assert feed is not None
    t0, t1 = int(feed.t[0]), int(feed.t[9])
    (daily,) = feed.iter_bars(AlpacaTimeframe(1, "Day"), t0, t1)
    assert np.array_equal(daily.close, load_daily_bars("GOOG")["close"].to_numpy()[:10])
    monday = pd.Timestamp("2004-08-23", tz="UTC").value  # buckets start on or after ``start``
    (weekly,) = feed.iter_bars(AlpacaTimeframe(1, "Week"), monday, t1)
    assert weekly.t.tolist() == [monday, pd.Timestamp("2004-08-30", tz="UTC").value]
    assert weekly.volume.sum() == daily.volume[daily.t >= monday].sum()
    hourly = list(feed.iter_bars(AlpacaTimeframe(1, "Hour"), t0, t1 + 86_400 * 10**9))
    assert sum(h.volume.sum() for h in hourly) == daily.volume.sum()
    assert sum(h.trade_count.sum() for h in hourly) == daily.trade_count.sum()


def test_user_bars_csv_and_trades_parquet(tmp_path):
    bars = pd.DataFrame(
        {
            "timestamp": pd.date_range("2020-01-01", periods=3, freq="D", tz="UTC"),
            "open": [1.0, 2.0, 3.0],
            "high": [2.0, 3.0, 4.0],
            "low": [0.5, 1.5, 2.5],
            "close": [1.5, 2.5, 3.5],
            "volume": [1000, 2000, 3000],
        }
    )
    bars.to_csv(tmp_path / "acme.csv", index=False)
    (feed,) = load_user_file(tmp_path / "acme.csv", SynthConfig())
    assert feed.symbol == "ACME"
    assert feed.trades_for_bar(1).size.sum() == 2000

    trades = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(
                ["2020-01-01T10:00", "2020-01-01T10:01", "2020-01-02T09:00"], utc=True
            ),
            "symbol": ["ETH/USD"] * 3,
            "price": [10.0, 11.0, 12.0],
            "size": [1.0, 2.0, 3.0],
        }
    )
    trades.to_parquet(tmp_path / "mine.parquet")
    (recorded,) = load_user_file(tmp_path / "mine.parquet", SynthConfig())
    assert recorded.asset_class == "crypto"
    replayed = recorded.trades_between(0, 2**62)
    assert replayed.price.tolist() == [10.0, 11.0, 12.0]
    assert recorded.close.tolist() == [11.0, 12.0]
