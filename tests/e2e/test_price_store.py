"""The price store through GraphQL on the real stack: backfill (a server job) from the replay
server's REST API into InfluxDB and Kafka, the real currents job on what was gathered, then
`series`, `indicators`, `signals` and `volatilityRanking` checked against pandas
(``tests/references/currents.py``, 1e-9 relative) — and `deleteBars`: the bars are gone, the
deletion is audited, and the recomputed indicators equal pandas on the bars that remain.

Each test has its own market and analytics buckets and topics; the GraphQL server is a child
process pointed at them. Data: the real GOOG daily bars (2004-2013) and, for the volatility
ranking, 1-minute bars the replay server generates inside real daily/hourly bars. The
mutations and jobs are alice's (a key of a metadata database of the test's own).
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest

from connectors.sinks.analytics import run_sink
from connectors.topic_reader import read_to_end
from graphql_server.client import query, subscribe
from streamlines.child import graphql_server_process
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.influx import MEASUREMENT_CURRENTS
from streamlines.datasets import load_bars
from tests.references.currents import assert_close, expected_indicators, volatility
from tests.support.metadata import Keys

INDICATORS = ["SMA", "EMA", "RSI", "BOLLINGER", "MACD"]
DELETE_FROM, DELETE_TO = "2009-03-02", "2009-04-15"  # ~30 trading days in the middle


@pytest.fixture
def store_names(stack, make_bucket, unique_name: str) -> dict:
    """Buckets (with the shard groups of `market` and `analytics`: years of bars and of
    indicators) and topic names of the test's own."""
    return {
        "market": make_bucket("market"),
        "analytics": make_bucket("analytics"),
        "history": f"{unique_name}.bars.history",
        "currents": f"{unique_name}.currents",
    }


@pytest.fixture
def server(store_names: dict, sqlite_keys: Keys, tmp_path) -> Iterator[str]:
    env = {
        "STREAMLINES_DATABASE_URL": sqlite_keys.url,
        "STREAMLINES_GATHER_BUCKET": store_names["market"],
        "STREAMLINES_GATHER_TOPIC": store_names["history"],
        "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": store_names["analytics"],
        "STREAMLINES_GRAPHQL_CURRENTS_TOPIC": store_names["currents"],
        "STREAMLINES_GRAPHQL_RIPPLES_TOPIC": f"{store_names['currents']}.ripples",
    }
    log = tmp_path / "graphql.log"
    with graphql_server_process(env, log_path=log) as url:
        yield url
    print(log.read_text()[-5000:])


def watch_job(url: str, api_key: str, job_id: str, timeout: float = 600) -> list[dict]:
    """Every state the job subscription sends, until the job has finished."""

    async def collect() -> list[dict]:
        seen = []
        document = (
            "subscription($id: String!) { job(id: $id) { status phase done total items errors } }"
        )
        async for data in subscribe(url, document, {"id": job_id}, api_key=api_key):
            seen.append(data["job"])
        return seen

    return asyncio.run(asyncio.wait_for(collect(), timeout))


def backfill(
    url: str, api_key: str, symbols: list[str], start: str, end: str, timeframe: str
) -> dict:
    job = query(
        url,
        """mutation($s: [String!]!, $a: DateTime!, $b: DateTime!, $tf: BarTimeframe!) {
             backfill(symbols: $s, start: $a, end: $b, timeframe: $tf) { id status total } }""",
        {"s": symbols, "a": start, "b": end, "tf": timeframe},
        api_key=api_key,
    )["backfill"]
    assert job["status"] in ("QUEUED", "RUNNING")
    states = watch_job(url, api_key, job["id"])
    assert [s["status"] for s in states][-1] == "SUCCEEDED", states
    assert any(s["status"] == "RUNNING" for s in states) or len(states) == 1
    assert states[-1]["done"] == states[-1]["total"] == len(symbols)
    return states[-1]


def run_currents(settings, names: dict) -> int:
    """The real currents job (its own mini-cluster, as `streamlines jobs submit currents
    --local`) over the gathered history, then its records into the analytics bucket."""
    command = [
        sys.executable, "-m", "streamlines.cli", "jobs", "submit", "currents", "--local",
        "--bounded", "--bootstrap", settings.kafka_bootstrap, "--history-topic", names["history"],
        "--live-topic", "", "--output-topic", names["currents"],
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    counters = run_sink(settings, names["currents"], names["analytics"],
                        measurement=MEASUREMENT_CURRENTS, group_id=names["currents"],
                        exit_when_idle=5)  # fmt: skip
    assert counters.dead_lettered == 0
    return counters.written


def series(
    url: str,
    symbol: str,
    timeframe: str = "DAY_1",
    start: str = "1990-01-01",
    end: str | None = None,
) -> pd.Series:
    """The stored bars in [start, end) (a series query's range is limited to
    STREAMLINES_GRAPHQL_MAX_POINTS bars of its timeframe: minute bars need a short one)."""
    data = query(
        url,
        """query($s: String!, $tf: BarTimeframe!, $a: DateTime!, $b: DateTime) {
             series(symbol: $s, start: $a, end: $b, adjusted: true, timeframe: $tf) {
               data { tNs close adjClose volume } } }""",
        {"s": symbol, "tf": timeframe, "a": start, "b": end},
    )["series"]["data"]
    return pd.Series(data["adjClose"], index=[int(t) for t in data["tNs"]], dtype=float)


def stored_indicators(url: str, symbol: str) -> dict[str, dict[int, dict]]:
    """metric -> t_ns -> values, from the `indicators` and `signals` queries."""
    got: dict[str, dict[int, dict]] = {}
    found = query(
        url,
        """query($s: String!, $n: [Indicator!]!) { indicators(symbol: $s, names: $n,
             start: "1990-01-01") { metric tNs values } }""",
        {"s": symbol, "n": INDICATORS},
    )["indicators"]
    for item in found:
        columns = item["values"]
        got[item["metric"]] = {
            int(t): {name: column[k] for name, column in columns.items()}
            for k, t in enumerate(item["tNs"])
        }
    signals = query(
        url,
        """query($s: [String!]!) { signals(symbols: $s, start: "1990-01-01") {
             name tNs direction flipped fast slow } }""",
        {"s": [symbol]},
    )["signals"]
    for signal in signals:
        values = {"signal": 1.0 if signal["direction"] == "BULLISH" else -1.0,
                  "cross": float(signal["flipped"]), "fast": signal["fast"],
                  "slow": signal["slow"]}  # fmt: skip
        got.setdefault(f"cross_{signal['name']}_1Day", {})[int(signal["tNs"])] = values
    return got


def check_against_pandas(got: dict[str, dict[int, dict]], close: pd.Series) -> int:
    checked = 0
    for metric, frame in expected_indicators(close, "1Day").items():
        rows = got.get(metric, {})
        assert sorted(rows) == list(frame.index), metric
        for t_ns, row in frame.iterrows():
            assert_close(rows[t_ns], row.to_dict(), f"{metric} {t_ns}")
        checked += len(frame)
    return checked


def ns(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").value)


def test_backfill_indicators_and_delete_with_recompute_match_pandas(
    settings, store_names, server, sqlite_keys
):
    alice = sqlite_keys.alice
    goog = load_bars("GOOG")
    state = backfill(server, alice, ["GOOG"], "2004-01-01", "2014-01-01", "DAY_1")
    assert state["items"] == len(goog)

    close = series(server, "GOOG")
    assert len(close) == len(goog)
    assert close.to_numpy().tolist() == pytest.approx(goog.close.to_numpy().tolist(), rel=1e-12)
    assert run_currents(settings, store_names) > 10_000
    before = stored_indicators(server, "GOOG")
    assert check_against_pandas(before, close) > 10_000

    doomed = close[(close.index >= ns(DELETE_FROM)) & (close.index < ns(DELETE_TO))]
    assert 25 <= len(doomed) <= 35
    currents_before = len(read_to_end(settings.kafka_bootstrap, store_names["currents"]))
    result = query(
        server,
        """mutation($a: DateTime!, $b: DateTime!) { deleteBars(symbol: "GOOG", start: $a,
             end: $b, reason: "bad prints from the feed") {
             deletion { symbol timeframe start end who reason deleted recomputeJob }
             recompute { id status kind } } }""",
        {"a": DELETE_FROM, "b": DELETE_TO},
        headers={"X-Streamlines-User": "mallory"},  # ignored: who is the key's user
        api_key=alice,
    )["deleteBars"]
    deletion, job = result["deletion"], result["recompute"]
    assert deletion["deleted"] == len(doomed)
    assert (deletion["who"], deletion["reason"]) == ("alice", "bad prints from the feed")
    assert deletion["recomputeJob"] == job["id"]
    assert job["kind"] == "recompute"
    states = watch_job(server, alice, job["id"])
    assert states[-1]["status"] == "SUCCEEDED", states

    remaining = series(server, "GOOG")
    assert list(remaining.index) == [t for t in close.index if t not in set(doomed.index)]
    after = stored_indicators(server, "GOOG")
    assert check_against_pandas(after, remaining) > 10_000
    # the indicators did change after the gap, and none is left at a deleted bar's time
    assert after["sma_1Day"] != before["sma_1Day"]
    assert not set(doomed.index) & {t for rows in after.values() for t in rows}

    audit = query(
        server,
        '{ barDeletions(symbol: "GOOG") { symbol timeframe who reason deleted start end } }',
        api_key=sqlite_keys.bob,
    )["barDeletions"]
    assert audit == [{"symbol": "GOOG", "timeframe": "1Day", "who": "alice",
                      "reason": "bad prints from the feed", "deleted": len(doomed),
                      "start": "2009-03-02T00:00:00+00:00",
                      "end": "2009-04-15T00:00:00+00:00"}]  # fmt: skip
    # the corrected records went downstream too, all from the first deleted bar on
    republished = [
        AnalyticsRecord.from_wire(r.value)
        for r in read_to_end(settings.kafka_bootstrap, store_names["currents"])[currents_before:]
    ]
    assert republished
    assert min(r.t_ns for r in republished) >= ns(DELETE_FROM)


MINUTE_SYMBOLS = ["SP500", "NASDAQ", "BTC/USD", "EUR/USD"]


def test_volatility_ranking_equals_pandas_over_the_same_24_hours(
    settings, store_names, server, sqlite_keys
):
    backfill(
        server, sqlite_keys.alice, MINUTE_SYMBOLS, "2018-01-16", "2018-01-17T23:59:00Z", "MINUTE_1"
    )
    bars = {
        symbol: series(server, symbol, "MINUTE_1", "2018-01-16", "2018-01-18")
        for symbol in MINUTE_SYMBOLS
    }
    assert all(len(b) > 200 for b in bars.values()), {s: len(b) for s, b in bars.items()}
    run_currents(settings, store_names)

    expected = {
        symbol: volatility(pd.DataFrame({"t_ns": close.index, "close": close.to_numpy()}))
        for symbol, close in bars.items()
    }
    rounds = sorted({t for frame in expected.values() for t in frame.index})
    # a round in the New York session (every symbol), one at night (crypto and EUR/USD moved),
    # one in between two rounds (the earlier one answers), and the last one
    for at in (ns("2018-01-17T15:30"), ns("2018-01-17T03:00"), ns("2018-01-17T15:30") + 30 * 10**9,
               rounds[-1]):  # fmt: skip
        round_t = max(t for t in rounds if t <= at)
        want = sorted(
            ((symbol, frame.loc[round_t]) for symbol, frame in expected.items()
             if round_t in frame.index),
            key=lambda item: (math.isnan(item[1]["rel_std"]), -item[1]["rel_std"]
                              if not math.isnan(item[1]["rel_std"]) else 0, item[0]),
        )  # fmt: skip
        iso = datetime.fromtimestamp(at / 1e9, UTC).isoformat()
        ranking = query(
            server,
            """query($at: DateTime!) { volatilityRanking(at: $at, limit: 100) {
                 tNs symbols entries { rank symbol std relStd mean count } } }""",
            {"at": iso},
        )["volatilityRanking"]
        assert int(ranking["tNs"]) == round_t
        assert [e["symbol"] for e in ranking["entries"]] == [s for s, _ in want], iso
        for entry, (_, row) in zip(ranking["entries"], want, strict=True):
            assert entry["count"] == int(row["count"])
            assert_close(
                {"std": entry["std"], "rel_std": entry["relStd"], "mean": entry["mean"]},
                {"std": row["std"], "rel_std": row["rel_std"], "mean": row["mean"]},
                f"{entry['symbol']} at {iso}",
            )


def test_append_latest_adds_only_the_bars_after_the_last_stored_one(server, sqlite_keys):
    alice = sqlite_keys.alice
    goog = load_bars("GOOG")
    backfill(server, alice, ["GOOG"], "2012-01-01", "2012-12-31", "DAY_1")
    stored = series(server, "GOOG")
    assert len(stored) == ((goog.index >= "2012-01-01") & (goog.index < "2013-01-01")).sum()

    job = query(server, "mutation { appendLatest(symbols: []) { id kind owner } }", api_key=alice)[
        "appendLatest"
    ]
    assert (job["kind"], job["owner"]) == ("append_latest", "alice")
    states = watch_job(server, alice, job["id"])
    assert states[-1]["status"] == "SUCCEEDED", states
    newer = goog[goog.index >= "2013-01-01"]  # the data set ends in 2013: all of it is complete
    assert states[-1]["items"] == len(newer)
    after = series(server, "GOOG")
    assert len(after) == len(stored) + len(newer)
    assert after.index[-1] == newer.index[-1].value
    polled = query(
        server,
        "query($id: String!) { job(id: $id) { status progress errors } }",
        {"id": job["id"]},
        api_key=alice,
    )["job"]
    assert polled == {"status": "SUCCEEDED", "progress": 1.0, "errors": []}
