"""Loading Narwhal's inputs (``ml/data.py``) without InfluxDB: the frames it assembles from
what the Flux queries return (a stand-in reader returns real GOOG bars shaped as InfluxDB's
pivoted results), and its errors. The real store is checked in
tests/integration/ml/test_data.py."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

import ml.data
from ml.data import (
    BARS_FLUX,
    CURRENTS_FLUX,
    LAST_BARS_FLUX,
    SPREAD_FLUX,
    load_frames,
)
from ml.features import INDICATOR_COLUMNS, INPUT_COLUMNS
from streamlines.datasets import load_bars
from streamlines.errors import UserError
from streamlines.settings import Settings
from tests.references.features import with_indicators

START, END = datetime(2010, 1, 1, tzinfo=UTC), datetime(2011, 1, 1, tzinfo=UTC)


def _goog() -> pd.DataFrame:
    frame = with_indicators(load_bars("GOOG"))
    frame["t_ns"] = frame["time"].array.asi8
    return frame


class FakeReader:
    """Answers each query as InfluxDB would, from real GOOG bars (adjusted = raw / 2, except
    on the first 10 bars of the range, which carry no adjusted values)."""

    calls: list[tuple[str, dict[str, Any], str]] = []

    def __init__(self, settings: Settings) -> None:
        self.goog = _goog()

    def frame(self, flux: str, params: dict[str, Any], bucket: str) -> pd.DataFrame:
        self.calls.append((flux, params, bucket))
        if params["symbol"] != "GOOG":
            return pd.DataFrame()
        t = self.goog["t_ns"]
        rows = self.goog[(t >= params["start_ns"]) & (t < params["stop_ns"])]
        if flux in (BARS_FLUX, LAST_BARS_FLUX):
            return self._bars(rows.tail(params["last_n"]) if flux == LAST_BARS_FLUX else rows)
        if flux == CURRENTS_FLUX:
            out = pd.DataFrame({"t_ns": rows["t_ns"].to_numpy()})
            for column, (family, field) in INDICATOR_COLUMNS.items():
                out[f"{family}_1Day_{field}"] = rows[column].to_numpy()
            return out.iloc[5:]  # no record yet at the first bars
        assert flux == SPREAD_FLUX
        spread = (rows["high"] - rows["low"]) / (rows["high"] + rows["low"]) / 100
        return pd.DataFrame({"t_ns": rows["t_ns"], "spread_rel": spread}).iloc[::2]

    def _bars(self, rows: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame({"t_ns": rows["t_ns"].to_numpy(), "symbol": "GOOG"})
        for column in ("open", "high", "low", "close", "volume"):
            out[column] = rows[column].to_numpy()
            adjusted = rows[column].to_numpy() / 2
            adjusted[(rows["time"] >= START).to_numpy().nonzero()[0][:10]] = np.nan
            out[f"adj_{column}"] = adjusted
        return out

    def close(self) -> None:
        pass


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeReader]:
    FakeReader.calls = []
    monkeypatch.setattr(ml.data, "FluxReader", FakeReader)
    return FakeReader


def test_frames_hold_adjusted_prices_and_the_indicators_at_each_bar(
    fake: type[FakeReader],
) -> None:
    frames = load_frames(Settings(), ["GOOG"], START, END, "1Day")
    frame = frames["GOOG"]
    goog = _goog()
    want = goog[(goog.time >= START) & (goog.time < END)].reset_index(drop=True)
    assert list(frame.columns) == list(INPUT_COLUMNS)
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    assert (frame["time"] == want["time"]).all()
    for column in ("open", "high", "low", "close", "volume"):
        raw = want[column].to_numpy()
        assert (frame[column].to_numpy()[:10] == raw[:10]).all(), column  # no adjusted: raw
        assert (frame[column].to_numpy()[10:] == raw[10:] / 2).all(), column
    for column in INDICATOR_COLUMNS:
        got = frame[column].to_numpy()
        assert np.isnan(got[:5]).all()
        assert np.array_equal(got[5:], want[column].to_numpy()[5:], equal_nan=True), column
    assert frame["spread_rel"].isna().all()  # daily bars have no spread
    assert [flux for flux, _, _ in fake.calls] == [BARS_FLUX, CURRENTS_FLUX]


def test_queries_bind_every_value_as_a_parameter(fake: type[FakeReader]) -> None:
    load_frames(Settings(), ["GOOG"], START, END, "1Day", market_bucket="m", analytics_bucket="a")
    (_bars_flux, bars, bars_bucket), (_, currents, currents_bucket) = fake.calls
    assert (bars_bucket, bars["bucket_name"], currents_bucket, currents["bucket_name"]) == (
        "m", "m", "a", "a",
    )  # fmt: skip
    assert bars["start_ns"] == 1_262_304_000_000_000_000
    assert bars["stop_ns"] == 1_293_840_000_000_000_000
    assert (bars["symbol"], bars["timeframe"], bars["measurement"]) == ("GOOG", "1Day", "bars")
    assert set(currents["metrics"]) == {"sma_1Day", "ema_1Day", "rsi_1Day", "macd_1Day",
                                        "bollinger_1Day"}  # fmt: skip
    for flux, _, _ in fake.calls:
        assert "GOOG" not in flux
        assert "1Day" not in flux


def test_warm_up_bars_come_before_the_range(fake: type[FakeReader]) -> None:
    frame = load_frames(Settings(), ["GOOG"], START, END, "1Day", warmup_bars=21)["GOOG"]
    goog = _goog()
    before = goog[goog.time < START].tail(21)
    assert (frame["time"].iloc[:21].to_numpy() == before["time"].to_numpy()).all()
    assert frame["time"].iloc[21] == goog[goog.time >= START]["time"].iloc[0]
    assert frame["time"].is_monotonic_increasing
    # the indicators are read from the first warm-up bar on
    assert fake.calls[-1][1]["start_ns"] == before["t_ns"].iloc[0]


def test_minute_bars_get_the_mean_relative_spread_of_their_minute(
    fake: type[FakeReader],
) -> None:
    start = datetime(2010, 1, 1, 0, 0, 30, tzinfo=UTC)
    end = datetime(2010, 3, 1, 0, 0, 30, tzinfo=UTC)
    frame = load_frames(Settings(), ["GOOG"], start, end, "1Min")["GOOG"]
    goog = _goog()
    rows = goog[(goog.time >= start) & (goog.time < end)]
    want = ((rows["high"] - rows["low"]) / (rows["high"] + rows["low"]) / 100).to_numpy()
    got = frame["spread_rel"].to_numpy()
    assert (got[::2] == want[::2]).all()
    assert np.isnan(got[1::2]).all()  # minutes without trades
    _, params, _ = fake.calls[-1]
    # whole minutes, from the first bar's minute to the end's (rounded up)
    assert params["start_ns"] == rows["t_ns"].iloc[0]
    assert params["stop_ns"] == int(pd.Timestamp("2010-03-01 00:01", tz="UTC").value)
    assert (params["metric"], params["measurement"]) == ("spread", "ripples")


def test_a_symbol_without_bars_says_how_to_gather_them(fake: type[FakeReader]) -> None:
    with pytest.raises(UserError, match="no 1Day bars of MSFT from 2010-01-01 to 2011-01-01") as e:
        load_frames(Settings(), ["GOOG", "MSFT"], START, END, "1Day")
    assert "streamlines gather --symbols MSFT --start 2010-01-01" in str(e.value)


def test_an_empty_range_is_refused(fake: type[FakeReader]) -> None:
    with pytest.raises(UserError, match="empty"):
        load_frames(Settings(), ["GOOG"], END, START, "1Day")


def test_influxdb_down_says_start_the_stack() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(host="127.0.0.1", influx_port=port)
    with pytest.raises(UserError, match="did not answer") as caught:
        load_frames(settings, ["GOOG"], START, END, "1Day")
    assert "streamlines stack up" in str(caught.value)
