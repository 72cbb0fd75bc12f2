"""Fundamentals gathered from a real replay server (the session's, a subprocess on a free port,
playing Nasdaq Data Link and Alpaca's corporate actions over the real data sets) into the real
Kafka and InfluxDB of the local stack, on a bucket and topic of each test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from influxdb_client import InfluxDBClient

from streamlines.settings import Settings
from tests.support.replay import ReplayServer

STORED_FLUX = """
from(bucket: bucket_name)
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "fundamentals")
  |> pivot(rowKey: ["_time", "symbol", "fact"], columnKey: ["_field"], valueColumn: "_value")
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""
NOT_FIELDS = {"result", "table", "_start", "_stop", "_time", "_measurement", "symbol", "fact",
              "t_ns"}  # fmt: skip
Key = tuple[str, str, int]


def stored_fundamentals(influx: InfluxDBClient, bucket: str) -> dict[Key, dict[str, Any]]:
    """What the bucket holds: (symbol, fact, t_ns) -> fields."""
    tables = influx.query_api().query(STORED_FLUX, params={"bucket_name": bucket})
    return {
        (r.values["symbol"], r.values["fact"], int(r.values["t_ns"])): {
            k: v for k, v in r.values.items() if k not in NOT_FIELDS and v is not None
        }
        for table in tables
        for r in table.records
    }


def cli(replay: ReplayServer, *args: str) -> subprocess.CompletedProcess[str]:
    """``streamlines gather fundamentals ARGS`` in a child process, against ``replay``."""
    env = {**os.environ, "STREAMLINES_REPLAY_PORT": str(replay.port),
           "STREAMLINES_ALPACA_API_KEY": "", "STREAMLINES_ALPACA_SECRET_KEY": "",
           "STREAMLINES_NASDAQ_DATA_LINK_API_KEY": ""}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "streamlines.cli", "gather", "fundamentals", *args],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


@pytest.fixture
def market_bucket(make_bucket: Callable[[str], str]) -> str:
    """A bucket of the test's own with the shard groups of ``market`` (deleted afterwards)."""
    return make_bucket("market")


@pytest.fixture
def fundamentals_settings(settings: Settings, replay: ReplayServer) -> Settings:
    """Settings that point the gather at the test's replay server (no Alpaca or Nasdaq Data
    Link keys), with short backoff waits."""
    return settings.model_copy(
        update={
            "replay_port": replay.port,
            "alpaca_api_key": None,
            "alpaca_secret_key": None,
            "nasdaq_data_link_api_key": None,
            "gather_backoff_initial": 0.05,
            "gather_backoff_max": 0.5,
        }
    )


@pytest.fixture
def set_corporate_actions(replay: ReplayServer) -> Iterator[Callable[[list[Any]], None]]:
    """``set_corporate_actions(rows)``: the server's corporate actions from now on (through its
    control endpoint); cleared after the test."""

    def set_rows(rows: list[Any]) -> None:
        replay.call("POST", "/control/corporate-actions", rows)

    yield set_rows
    replay.call("DELETE", "/control/corporate-actions")
