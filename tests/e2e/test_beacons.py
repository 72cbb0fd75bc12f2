"""Beacons the way a user runs it, on the real stack: the replay server plays Alpaca (daily bars,
corporate actions) and Nasdaq Data Link (the S&P 500's monthly MULTPL series, the ZACKS/EA
announcements); ``streamlines gather`` and ``streamlines gather fundamentals`` write them to
Kafka and InfluxDB; the beacons job runs on the Flink cluster (bounded); ``streamlines sink
influx`` stores its records; GraphQL's ``valuation``, ``events``, ``eventStudy`` and the
``beacons`` subscription answer — equal to pandas (``tests/references/beacons.py``, 1e-9
relative) on the data sets the replay server serves: the S&P 500's P/E, earnings yield and
dividend yield over 1999-2018, GOOG's 34 earnings reactions against the S&P 500 (2004-2013).

Everything runs on topics, buckets and consumer groups of the test's own.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from connectors.sinks.kafka import ensure_topics
from graphql_server.client import query, subscribe
from jobs.registry import JOBS
from streamlines.child import graphql_server_process
from streamlines.contracts.topics import dead_letter_topic
from streamlines.datasets import load_daily_bars
from tests.references import beacons as reference
from tests.references.compare import assert_close
from tests.support.beacons import goog_announcements, shiller_facts
from tests.support.flink import run_job

START, END = "1999-01-01", "2018-12-31"
VALUATION_FIELDS = {"close": "close", "pe": "pe", "earningsYield": "earnings_yield",
                    "dividendYield": "dividend_yield", "cape": "cape",
                    "earningsTtm": "earnings_ttm", "dividendTtm": "dividend_ttm",
                    "earnings10y": "earnings_10y"}  # fmt: skip
WINDOWS = {"DAY0_TO_1": "0_1", "DAY_MINUS1_TO_5": "m1_5"}


@pytest.fixture
def names(stack, make_bucket, unique_name: str) -> dict[str, str]:
    names = {
        "market": make_bucket("market"),
        "analytics": make_bucket("analytics"),
        "bars": f"{unique_name}.bars",
        "facts": f"{unique_name}.fundamentals",
        "beacons": f"{unique_name}.beacons",
    }
    return names


def streamlines(*args: str) -> str:
    """A ``streamlines`` command as a user types it; fails the test unless it succeeds."""
    done = subprocess.run(
        [sys.executable, "-m", "streamlines.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def gathered(settings, names: dict[str, str]) -> dict[str, str]:
    """The replay server's daily bars of both symbols and their fundamentals, gathered."""
    ensure_topics(settings.kafka_bootstrap, [names["bars"], names["facts"],
                                             dead_letter_topic(names["facts"])])  # fmt: skip
    streamlines(
        "gather", "--symbols", "SP500,GOOG", "--start", START, "--end", END,
        "--timeframe", "1Day", "--bucket", names["market"], "--topic", names["bars"],
    )  # fmt: skip
    # From a year earlier: the valuation of January 1999 needs the months before it.
    streamlines(
        "gather", "fundamentals", "--symbols", "SP500,GOOG", "--start", "1998-01-01",
        "--end", END, "--bucket", names["market"], "--topic", names["facts"],
    )  # fmt: skip
    return names


@pytest.fixture
def beacons_stored(settings, gathered: dict[str, str], unique_name: str) -> dict[str, str]:
    names = gathered
    run_job(
        settings, JOBS["beacons"].file, "--bootstrap", settings.kafka_bootstrap,
        "--bars-topic", names["bars"], "--fundamentals-topic", names["facts"],
        "--output-topic", names["beacons"], "--group-id", unique_name, "--bounded", timeout=900,
    )  # fmt: skip
    streamlines(
        "sink", "influx", "--topic", names["beacons"], "--bucket", names["analytics"],
        "--measurement", "beacons", "--group-id", unique_name, "--exit-when-idle", "5",
    )  # fmt: skip
    return names


@pytest.fixture
def graphql(beacons_stored: dict[str, str], tmp_path) -> Iterator[str]:
    env = {
        "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": beacons_stored["analytics"],
        "STREAMLINES_BEACONS_TOPIC": beacons_stored["beacons"],
    }
    log = tmp_path / "graphql.log"
    with graphql_server_process(env, log_path=log) as url:
        yield url


def columns(data: dict[str, list[Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(data)
    frame.index = pd.to_datetime(frame.pop("date")).dt.tz_localize("UTC")
    return frame


def nullable(value: float) -> float | None:
    return None if isinstance(value, float) and math.isnan(value) else value


def test_valuation_events_and_studies_from_graphql_equal_pandas(graphql, settings, names):
    answer = query(
        graphql,
        """query($s: String!, $a: DateTime!, $b: DateTime!) {
             valuation(symbol: $s, start: $a, end: $b) { symbol data {
               date close pe earningsYield dividendYield cape earningsTtm dividendTtm earnings10y
             } } }""",
        {"s": "SP500", "a": f"{START}T00:00:00Z", "b": "2019-01-01T00:00:00Z"},
    )["valuation"]
    got = columns(answer["data"])
    sp500 = load_daily_bars("SP500").loc[START:END]
    expected = reference.valuation(sp500["close"], shiller_facts("1998-01-01", END))
    assert list(got.index) == list(expected.index)  # every trading day, none other
    assert len(got) > 5_000
    for stamp, row in got.iterrows():
        want = {field: nullable(expected.at[stamp, column])
                for field, column in VALUATION_FIELDS.items()}  # fmt: skip
        assert_close(row.to_dict(), want, f"SP500 valuation {stamp:%Y-%m-%d}")

    events = query(
        graphql,
        """query($s: String!, $a: DateTime!) {
             events(symbol: $s, start: $a, kinds: [EARNINGS]) {
               kind day0 move windows { window return indexReturn abnormal } } }""",
        {"s": "GOOG", "a": "2004-01-01T00:00:00Z"},
    )["events"]
    goog = load_daily_bars("GOOG")
    after_close = pd.Series(True, index=goog_announcements().index)
    moves = reference.event_moves(goog["close"], sp500_adjusted(), after_close)
    assert [pd.Timestamp(e["day0"], tz="UTC") for e in events] == list(moves.index)
    assert len(events) == 34
    for event, (day0, row) in zip(events, moves.iterrows(), strict=True):
        got_event = {"move": event["move"]}
        want_event = {"move": row["move"]}
        for move in event["windows"]:
            suffix = WINDOWS[move["window"]]
            for field, column in (("return", "return"), ("indexReturn", "index_return"),
                                  ("abnormal", "abnormal")):  # fmt: skip
                got_event[f"{field}_{suffix}"] = move[field]
                want_event[f"{field}_{suffix}"] = nullable(row[f"{column}_{suffix}"])
        assert_close(got_event, want_event, f"GOOG earnings {day0:%Y-%m-%d}")

    for window, suffix in WINDOWS.items():
        study = query(
            graphql,
            """query($s: String!, $w: EventWindow!) {
                 eventStudy(symbol: $s, kind: EARNINGS, window: $w) {
                   count mean median std min max tStat } }""",
            {"s": "GOOG", "w": window},
        )["eventStudy"]
        stats = reference.event_study(moves[f"abnormal_{suffix}"])
        assert study["count"] == 34
        assert_close(
            {k: study[k] for k in ("mean", "median", "std", "min", "max", "tStat")},
            {"mean": stats["mean"], "median": stats["median"], "std": stats["std"],
             "min": stats["min"], "max": stats["max"], "tStat": stats["t_stat"]},
            f"GOOG study {window}",
        )  # fmt: skip

    # The live path starts with the latest record of each metric: the last day's valuation.
    first = asyncio.run(first_beacon(graphql))
    last_day = expected.index[-1]
    assert first["tNs"] == str(last_day.value) or int(first["tNs"]) == last_day.value
    assert_close({"pe": first["values"]["pe"]}, {"pe": expected.at[last_day, "pe"]}, "subscription")


def sp500_adjusted() -> pd.Series:
    return load_daily_bars("SP500")["adj_close"]


async def first_beacon(url: str) -> dict[str, Any]:
    document = """subscription { beacons(symbols: ["SP500"], metrics: ["valuation_1Day"]) {
                    symbol metric tNs values } }"""
    async for data in subscribe(url, document):
        return dict(data["beacons"])
    raise AssertionError("the beacons subscription ended without a record")
