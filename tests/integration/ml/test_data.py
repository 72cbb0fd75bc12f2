"""``ml.data.load_frames`` against the stack's InfluxDB: real GOOG daily bars and their
indicators (computed by tests/references/currents.py, as the currents job would) written into
buckets of the test's own, with the contract's point builders, and read back exactly; 1-minute
bars with ripples' spread records, averaged per minute."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from influxdb_client import InfluxDBClient

from ml.data import load_frames
from ml.features import INDICATOR_COLUMNS, INPUT_COLUMNS
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.influx import MEASUREMENT_CURRENTS, MEASUREMENT_RIPPLES
from streamlines.contracts.metrics import METRIC_SPREAD
from streamlines.contracts.points import analytics_point, bar_line
from streamlines.errors import UserError
from streamlines.settings import Settings
from tests.references import currents
from tests.support.ml_stores import goog_bars, history_bar, indicator_records, write_points

START, END = datetime(2008, 1, 1, tzinfo=UTC), datetime(2010, 1, 1, tzinfo=UTC)
FAMILIES = ("sma", "ema", "rsi", "macd", "bollinger")
MINUTE_NS = 60_000_000_000


def test_load_frames_returns_the_stored_daily_bars_and_indicators_exactly(
    influx: InfluxDBClient, make_bucket: Callable[[str], str], settings: Settings
) -> None:
    market, analytics = make_bucket("market"), make_bucket("analytics")
    bars = goog_bars(END)
    write_points(influx, market, [bar_line(history_bar(row)) for _, row in bars.iterrows()])
    records = indicator_records(bars, "1Day")
    write_points(influx, analytics, [analytics_point(r, MEASUREMENT_CURRENTS) for r in records])

    frames = load_frames(settings, ["GOOG"], START, END, "1Day", warmup_bars=21,
                         market_bucket=market, analytics_bucket=analytics)  # fmt: skip
    frame = frames["GOOG"]
    assert list(frame.columns) == list(INPUT_COLUMNS)
    first = int(np.searchsorted(bars.index, pd.Timestamp(START)))
    want = bars.iloc[first - 21 :]
    assert (frame["time"].array.asi8 == want["t_ns"].to_numpy()).all()
    for column in ("open", "high", "low", "close", "volume"):
        assert (frame[column].to_numpy() == want[column].to_numpy() / 2).all(), column

    expected = currents.expected_indicators(
        pd.Series((bars["close"] / 2).to_numpy(), index=bars["t_ns"].to_numpy()), "1Day"
    )
    for column, (family, field) in INDICATOR_COLUMNS.items():
        reference = expected[f"{family}_1Day"][field].reindex(want["t_ns"]).to_numpy()
        assert np.array_equal(frame[column].to_numpy(), reference, equal_nan=True), column
    assert frame["rsi_14"].notna().all()
    assert frame["sma_200"].notna().all()
    assert frame["spread_rel"].isna().all()


def test_minute_bars_get_the_mean_relative_spread_of_their_minute(
    influx: InfluxDBClient, make_bucket: Callable[[str], str], settings: Settings
) -> None:
    """30 GOOG daily bars replayed as consecutive minutes; three trades a minute, each with
    the quote at it (bid and ask around the close, from the bar's real range)."""
    market, analytics = make_bucket("market"), make_bucket("analytics")
    t0 = int(pd.Timestamp("2012-01-03 14:30", tz="UTC").value)
    bars = goog_bars(END).iloc[-30:].assign(t_ns=[t0 + i * MINUTE_NS for i in range(30)])
    write_points(influx, market, [bar_line(history_bar(r, "1Min")) for _, r in bars.iterrows()])
    spreads, expected = [], {}
    for i, (_, row) in enumerate(bars.iterrows()):
        if i % 5 == 4:
            continue  # a minute without trades
        rel = []
        for k, second in enumerate((0, 17, 59)):
            half = (row["high"] - row["low"]) / (200 + 50 * k)
            bid, ask = row["close"] - half, row["close"] + half
            values = {"bid": bid, "ask": ask, "spread": ask - bid, "mid": (bid + ask) / 2}
            t_ns = int(row["t_ns"]) + second * 1_000_000_000 + 123
            spreads.append(AnalyticsRecord(symbol="GOOG", metric=METRIC_SPREAD, t_ns=t_ns,
                                           values=values))  # fmt: skip
            rel.append(values["spread"] / values["mid"])
        expected[int(row["t_ns"])] = sum(rel) / len(rel)
    write_points(influx, analytics, [analytics_point(r, MEASUREMENT_RIPPLES) for r in spreads])

    start = datetime(2012, 1, 3, 14, 30, tzinfo=UTC)
    end = datetime(2012, 1, 3, 14, 59, 30, tzinfo=UTC)  # the last bar (14:59) ends after it
    frame = load_frames(settings, ["GOOG"], start, end, "1Min",
                        market_bucket=market, analytics_bucket=analytics)["GOOG"]  # fmt: skip
    assert len(frame) == 30
    want = [expected.get(int(t), math.nan) for t in frame["time"].array.asi8]
    np.testing.assert_allclose(frame["spread_rel"].to_numpy(), want, rtol=1e-12)
    assert frame["spread_rel"].isna().sum() == 6


def test_a_symbol_without_bars_and_a_missing_bucket_are_user_errors(
    make_bucket: Callable[[str], str], settings: Settings
) -> None:
    market, analytics = make_bucket("market"), make_bucket("analytics")
    with pytest.raises(UserError, match="no 1Day bars of MSFT") as caught:
        load_frames(settings, ["MSFT"], START, END, "1Day", market_bucket=market,
                    analytics_bucket=analytics)  # fmt: skip
    assert "streamlines gather --symbols MSFT" in str(caught.value)
    with pytest.raises(UserError, match="has no bucket"):
        load_frames(settings, ["MSFT"], START, END, "1Day", market_bucket=f"{market}-nope",
                    analytics_bucket=analytics)  # fmt: skip
