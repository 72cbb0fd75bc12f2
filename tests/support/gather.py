"""What gather's integration tests compare with: the replay server's bars over plain REST (no
alpaca-py, no gather code), and what InfluxDB holds; a gather run in this process and one of
``streamlines gather`` in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import requests
from influxdb_client import InfluxDBClient

from connectors.alpaca.normalize import event_time_ns
from connectors.gather.service import Job, Report, run_jobs
from streamlines.cli_args import parse_time
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.settings import Settings
from tests.support.replay import ReplayServer

BAR_FIELDS = {"o": "open", "h": "high", "l": "low", "c": "close"}
STORED_FLUX = """
from(bucket: bucket_name)
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "bars" and r.symbol == symbol and r.timeframe == timeframe)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""
COUNT_FLUX = """
from(bucket: bucket_name)
  |> range(start: 0)
  |> group()
  |> count()
"""
NOT_FIELDS = {"result", "table", "_start", "_stop", "_time", "_measurement", "symbol", "timeframe",
              "t_ns"}  # fmt: skip


def reference(
    replay: ReplayServer, symbol: str, timeframe: str, start: str, end: str, adjustment: str
) -> list[dict[str, Any]]:
    """The server's bars over plain REST (no alpaca-py, no gather code), every page."""
    path = "/v1beta3/crypto/us/bars" if "/" in symbol else "/v2/stocks/bars"
    params = {"symbols": symbol, "timeframe": timeframe, "start": start, "end": end,
              "adjustment": adjustment, "limit": 1000}  # fmt: skip
    rows: list[dict[str, Any]] = []
    while True:
        body = replay.call("GET", path, **params)
        rows += body["bars"].get(symbol, [])
        if body["next_page_token"] is None:
            return rows
        params["page_token"] = body["next_page_token"]


def corporate_actions(
    replay: ReplayServer, symbol: str, start: str, end: str
) -> dict[str, tuple[float, float]] | None:
    """The server's dividends and splits of ``symbol`` over plain REST, as ex date ->
    (dividend, split factor); None when the server has no corporate-actions endpoint."""
    params = {"symbols": symbol, "types": "cash_dividend,forward_split,reverse_split",
              "start": start[:10], "end": end[:10], "limit": 1000}  # fmt: skip
    days: dict[str, tuple[float, float]] = {}
    while True:
        try:
            body = replay.call("GET", "/v1/corporate-actions", **params)
        except requests.HTTPError as exc:
            if exc.response is not None and exc.response.status_code == 404:
                return None
            raise
        groups = body["corporate_actions"]
        for action in groups.get("cash_dividends", []):
            dividend, split = days.get(action["ex_date"], (0.0, 1.0))
            days[action["ex_date"]] = (dividend + action["rate"], split)
        for action in groups.get("forward_splits", []) + groups.get("reverse_splits", []):
            dividend, split = days.get(action["ex_date"], (0.0, 1.0))
            days[action["ex_date"]] = (dividend, split * action["new_rate"] / action["old_rate"])
        if body["next_page_token"] is None:
            return days
        params["page_token"] = body["next_page_token"]


def expected(
    replay: ReplayServer, symbol: str, timeframe: str, start: str, end: str
) -> dict[int, dict[str, Any]]:
    """What InfluxDB should hold for these bars: t_ns -> fields. A stock's daily bars carry the
    server's dividend and split factor of their day (0.0 and 1.0 on days without)."""
    raw = reference(replay, symbol, timeframe, start, end, "raw")
    adjusted = {r["t"]: r for r in reference(replay, symbol, timeframe, start, end, "all")}
    actions = None
    if timeframe == "1Day" and "/" not in symbol:
        actions = corporate_actions(replay, symbol, start, end)
    out = {}
    for row in raw:
        adj = adjusted[row["t"]]
        fields = {name: float(row[key]) for key, name in BAR_FIELDS.items()}
        fields |= {f"adj_{name}": float(adj[key]) for key, name in BAR_FIELDS.items()}
        fields |= {"volume": float(row["v"]), "adj_volume": float(adj["v"]),
                   "trade_count": row["n"], "adj_factor": adj["c"] / row["c"]}  # fmt: skip
        if row["vw"]:
            fields["vwap"] = row["vw"]
        if actions is not None:
            fields["dividend"], fields["split_factor"] = actions.get(row["t"][:10], (0.0, 1.0))
        out[event_time_ns(row["t"])] = fields
    return out


def stored(influx: InfluxDBClient, bucket: str, symbol: str, timeframe: str) -> dict[int, Any]:
    params = {"bucket_name": bucket, "symbol": symbol, "timeframe": timeframe}
    tables = influx.query_api().query(STORED_FLUX, params=params)
    return {
        int(r.values["t_ns"]): {
            k: v for k, v in r.values.items() if k not in NOT_FIELDS and v is not None
        }
        for table in tables
        for r in table.records
    }


def field_values(influx: InfluxDBClient, bucket: str) -> int:
    """Every field value in the bucket: a duplicated point would add to it."""
    tables = influx.query_api().query(COUNT_FLUX, params={"bucket_name": bucket})
    return sum(int(r.get_value()) for table in tables for r in table.records)


def gather(
    settings: Settings,
    symbols: list[str],
    start: str,
    end: str,
    bucket: str,
    topic: str | None,
    timeframe: BarTimeframe = BarTimeframe.DAY_1,
    processes: int = 1,
) -> Report:
    first, last = parse_time(start, "--start"), parse_time(end, "--end")
    jobs = [Job(symbol, first, last) for symbol in symbols]
    return run_jobs(settings, jobs, timeframe, bucket, topic, concurrency=3, processes=processes)


def cli(replay: ReplayServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STREAMLINES_REPLAY_PORT": str(replay.port),
           "STREAMLINES_ALPACA_API_KEY": "", "STREAMLINES_ALPACA_SECRET_KEY": ""}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "streamlines.cli", "gather", *args],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
