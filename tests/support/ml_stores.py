"""Stores filled for Narwhal's integration tests: real GOOG daily bars as gathered
``HistoryBar`` points (adjusted prices half the raw ones, as after a 2:1 split) and their
indicators as the currents job would write them (computed by tests/references/currents.py on
the adjusted close), with the contract's point builders."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from streamlines.contracts.events import AnalyticsRecord, HistoryBar
from streamlines.datasets import load_bars
from tests.references import currents

FAMILIES = ("sma", "ema", "rsi", "macd", "bollinger")


def goog_bars(end: datetime) -> pd.DataFrame:
    """Real GOOG daily bars before ``end``, with ``t_ns``."""
    bars = load_bars("GOOG")
    bars = bars[bars.index < end]
    return bars.assign(t_ns=bars.index.asi8)


def history_bar(row: pd.Series, timeframe: str = "1Day") -> HistoryBar:
    prices = {c: float(row[c]) for c in ("open", "high", "low", "close", "volume")}
    return HistoryBar(
        symbol="GOOG",
        t_ns=int(row["t_ns"]),
        timeframe=timeframe,
        **prices,
        **{f"adj_{c}": v / 2 for c, v in prices.items()},  # as after a 2:1 split
        adj_factor=0.5,
    )


def indicator_records(bars: pd.DataFrame, timeframe: str) -> list[AnalyticsRecord]:
    close = pd.Series((bars["close"] / 2).to_numpy(), index=bars["t_ns"].to_numpy())
    records = []
    for metric, frame in currents.expected_indicators(close, timeframe).items():
        if not metric.startswith(FAMILIES):
            continue
        for t_ns, values in frame.iterrows():
            clean = {k: None if math.isnan(v) else float(v) for k, v in values.items()}
            records.append(AnalyticsRecord(symbol="GOOG", metric=metric, t_ns=int(t_ns),
                                           values=clean))  # fmt: skip
    return records


def write_points(influx: InfluxDBClient, bucket: str, records: list) -> None:
    influx.write_api(write_options=SYNCHRONOUS).write(bucket=bucket, record=records)
