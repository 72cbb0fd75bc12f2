"""Stores filled for Narwhal's integration tests: real GOOG daily bars as gathered
``HistoryBar`` points (adjusted prices half the raw ones, as after a 2:1 split) and their
indicators as the currents job would write them (computed by tests/references/currents.py on
the adjusted close), with the contract's point builders."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from streamlines.contracts.events import AnalyticsRecord, HistoryBar
from streamlines.contracts.influx import MEASUREMENT_CURRENTS
from streamlines.contracts.points import analytics_point, bar_line
from streamlines.datasets import load_bars
from streamlines.settings import Settings
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


def fill_goog_stores(
    influx: InfluxDBClient,
    make_bucket: Callable[[str], str],
    settings: Settings,
    unique_name: str,
    models_dir: Path,
) -> Settings:
    """``settings`` pointed at buckets, topics and a model folder of the test's own, with GOOG's
    daily bars (to March 2013) and their indicators written."""
    market, analytics = make_bucket("market"), make_bucket("analytics")
    bars = goog_bars(datetime(2013, 3, 2, tzinfo=UTC))
    write_points(influx, market, [bar_line(history_bar(row)) for _, row in bars.iterrows()])
    records = indicator_records(bars, "1Day")
    write_points(influx, analytics, [analytics_point(r, MEASUREMENT_CURRENTS) for r in records])
    return settings.model_copy(
        update={
            "gather_bucket": market,
            "graphql_analytics_bucket": analytics,
            "graphql_ripples_topic": f"{unique_name}.ripples",
            "predictions_bucket": make_bucket("predictions"),
            "predictions_topic": f"{unique_name}.predictions",
            "models_dir": models_dir,
        }
    )


def store_env(settings: Settings) -> dict[str, str]:
    """The STREAMLINES_* variables that give a child process (the CLI, the GraphQL server) the
    stores of ``fill_goog_stores``."""
    return {
        "STREAMLINES_GATHER_BUCKET": settings.gather_bucket,
        "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": settings.graphql_analytics_bucket,
        "STREAMLINES_GRAPHQL_RIPPLES_TOPIC": settings.graphql_ripples_topic,
        "STREAMLINES_PREDICTIONS_BUCKET": settings.predictions_bucket,
        "STREAMLINES_PREDICTIONS_TOPIC": settings.predictions_topic,
        "STREAMLINES_MODELS_DIR": str(settings.model_store_dir),
    }
