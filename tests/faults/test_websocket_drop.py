"""Fault 4: ingest's websocket is dropped while it streams, and kept away for a while.

What protects the data: alpaca-py reconnects (ingest caps its backoff at
STREAMLINES_INGEST_RECONNECT_MAX_BACKOFF, 2 s), and ingest fills the gap from Alpaca's
historical trades and quotes REST endpoints through alpaca-py (connectors/ingest/gaps.py),
trades de-duplicated by trade id. The replay server behaves as live Alpaca: the timeline moves
on while a client is away and a reconnect joins it where it is now, so the gap is real (the test
checks that the live stream did skip trades: without that it would prove nothing).

The reference is independent of the server's websocket and REST code: the same generated trades
and quotes, built in this process from the same real bars (``build_universe``). Every one of
them between the first and last trade ingested must be on the topic exactly once.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

import pytest

from connectors.replay.feed import SynthConfig
from connectors.replay.universe import Universe, build_universe
from streamlines.settings import Settings
from tests.support.fault_streams import (
    ingest_settings,
    ingest_topics,
    running_ingest,
    shared_kafka,
    values,
    wait_for,
)
from tests.support.faults import report
from tests.support.replay import ReplayServer, started_replay_server

SYMBOLS = ["GOOG", "SP500", "NASDAQ"]
TRADES_PER_MINUTE = 120.0  # at most 5,000 a day: about 13 a replayed minute
SPEED = "300"  # replayed seconds per second: about 65 trades/s of each symbol
START = "2012-01-03T14:30:00Z"
AWAY_S = 2.0  # the outage: the server refuses the key's reconnects this long


@pytest.fixture(scope="module")
def paced_replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:
    args = ["--speed", SPEED, "--start", START, "--symbols", ",".join(SYMBOLS),
            "--trades-per-minute", str(TRADES_PER_MINUTE)]  # fmt: skip
    with started_replay_server(tmp_path_factory.mktemp("replay-drop"), *args) as server:
        yield server


@pytest.fixture(scope="module")
def universe() -> Universe:
    return build_universe(symbols=SYMBOLS, synth=SynthConfig(trades_per_minute=TRADES_PER_MINUTE))


def reference_ids(universe: Universe, symbol: str, t0: int, t1: int) -> set[int]:
    feed = universe.feeds[symbol]
    assert feed is not None
    return set(feed.trades_between(t0, t1 + 1).id.tolist())


def reference_quote_times(universe: Universe, symbol: str, t0: int, t1: int) -> list[int]:
    feed = universe.feeds[symbol]
    assert feed is not None
    return [t for q in feed.quotes_between(t0, t1 + 1) for t in q.t.tolist()]


def test_a_dropped_websocket_reconnects_and_backfills_the_gap(paced_replay, universe):
    base = Settings()
    bootstrap = shared_kafka(base)
    with ingest_topics(base, "ws-drop") as topics:
        settings = ingest_settings(base, paced_replay, topics)
        with running_ingest(settings, SYMBOLS) as run:
            router = run.router
            wait_for("trades", lambda: router.counts["trade"] >= 300, 30, router)
            dropped = paced_replay.call(
                "POST", "/control/drop", {"key": run.streams[0]._api_key, "away_seconds": AWAY_S}
            )
            assert dropped == {"dropped": 1}
            stream = run.streams[0]
            reconnect_s = wait_for("reconnect", lambda: stream.connections >= 2, 30, router)
            before_end = router.counts["trade"]
            wait_for("live trades", lambda: router.counts["trade"] >= before_end + 300, 30, router)
            # The backfill starts at the first live trade or quote and takes well under 5 s.
            with contextlib.suppress(AssertionError):
                wait_for("backfill", lambda: bool(run.gap_reports()), 5, router)
        gaps = run.gap_reports()
        trades = values(bootstrap, topics.trades)
        quotes = values(bootstrap, topics.quotes)

    for gap in gaps:
        print(gap.line())
    compared = missing = duplicated = quotes_compared = quotes_missing = quotes_duplicated = 0
    for symbol in SYMBOLS:
        ids = [t["trade_id"] for t in trades if t["symbol"] == symbol]
        times = [t["t_ns"] for t in trades if t["symbol"] == symbol]
        expected = reference_ids(universe, symbol, min(times), max(times))
        compared += len(expected)
        missing += len(expected - set(ids))
        duplicated += sum(n - 1 for n in Counter(ids).values())
        assert set(ids) <= expected, f"{symbol}: trades that are not the replay's"
        got_q = [q["t_ns"] for q in quotes if q["symbol"] == symbol]
        want_q = reference_quote_times(universe, symbol, min(got_q), max(got_q))
        quotes_compared += len(want_q)
        quotes_missing += len(set(want_q) - set(got_q))
        quotes_duplicated += sum(n - 1 for n in Counter(got_q).values())
    print(
        report(
            "4 websocket dropped",
            trades_compared=compared,
            lost=missing,
            duplicated=duplicated,
            quotes_compared=quotes_compared,
            quotes_lost=quotes_missing,
            quotes_duplicated=quotes_duplicated,
            backfilled_trades=sum(g.trades for g in gaps),
            duplicates_skipped=sum(g.duplicates for g in gaps),
            reconnect_s=round(reconnect_s, 2),
            time_to_recover_s=round(
                max((g.fill_seconds for g in gaps), default=0) + reconnect_s, 2
            ),
        )
    )
    assert (missing, duplicated) == (0, 0)
    assert (quotes_missing, quotes_duplicated) == (0, 0)
    assert reconnect_s < 5.0
    # The gap was real: the live stream skipped trades that only the backfill brought.
    assert len(gaps) == 1
    assert gaps[0].trades > 0, "no gap: did the replay server resume the stream?"
