"""Gather against a real replay server (a subprocess on a free port) serving the real data sets
plus ``ADJX``, a daily series of our own whose adjusted close differs from its close (a 2:1
split and a dividend), so that adjusted and raw prices are told apart; the real InfluxDB and
Kafka of the local stack, on a bucket and topic of each test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from streamlines.settings import Settings
from tests.support.replay import ReplayServer, started_replay_server

SPLIT_DAY = "2018-06-15"  # 2:1: the raw price halves
DIVIDEND_DAY = "2018-06-25"  # adj close before it is 0.99 of the close


def adjx_bars() -> pd.DataFrame:
    days = pd.bdate_range("2018-05-01", "2018-07-31").drop(pd.Timestamp("2018-07-04"))
    k = pd.Series(range(len(days)), index=days, dtype=float)
    before_split = days < pd.Timestamp(SPLIT_DAY)
    base = 97 + (k % 7) + k * 0.25
    close = base.where(~before_split, base * 2).round(2)
    factor = pd.Series(1.0, index=days)
    factor[days < pd.Timestamp(DIVIDEND_DAY)] = 0.99
    factor[before_split] *= 0.5
    return pd.DataFrame(
        {
            "timestamp": days.strftime("%Y-%m-%d"),
            "open": (close - 0.5).round(2),
            "high": (close + 1.25).round(2),
            "low": (close - 1.5).round(2),
            "close": close,
            "adj_close": (close * factor).round(4),
            "volume": (1_000_000 + k * 1_000).where(~before_split, (500_000 + k * 500)),
        }
    )


@pytest.fixture(scope="session")
def replay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:
    """The session's replay server (see ``tests/support/replay.py``), serving ``ADJX`` too;
    ``replay`` is this one with its faults cleared."""
    folder = tmp_path_factory.mktemp("gather-replay")
    data = Path(folder, "adjx.csv")
    adjx_bars().to_csv(data, index=False)
    with started_replay_server(folder, "--data", str(data)) as server:
        yield server


@pytest.fixture
def market_bucket(make_bucket) -> str:
    """A bucket of the test's own with the shard groups of ``market`` (deleted afterwards): with
    InfluxDB's 7-day default, writing years of bars at once times out."""
    return make_bucket("market")


@pytest.fixture
def gather_settings(settings: Settings, replay: ReplayServer) -> Settings:
    """Settings that point gather at the test's replay server (no Alpaca keys), with short
    backoff waits so injected 429s cost little time."""
    return settings.model_copy(
        update={
            "replay_port": replay.port,
            "alpaca_api_key": None,
            "alpaca_secret_key": None,
            "gather_backoff_initial": 0.05,
            "gather_backoff_max": 0.5,
        }
    )
