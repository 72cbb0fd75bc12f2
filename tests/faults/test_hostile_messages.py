"""Fault 6: 100,000 hostile messages in the feed, one after every good message: wrong types,
NaN and infinity, negative and zero sizes, a 10,000-character symbol, crossed quotes, times in
the year 2200 and a year back, repeated trades, missing fields, a time that is not one, a type
that is a number (the replay server's ``--hostile-every``, connectors/replay/hostile.py).

What protects the pipeline: the event schema (streamlines/contracts/events.py: strict numbers,
finite, positive sizes, bid not above ask, symbols of at most 32 characters), ingest's own
checks of the stream's history (connectors/ingest/event_times.py, trade_ids.py) and its
stream client, which hands on what alpaca-py would drop without a word (connectors/alpaca/
stream.py). Each hostile message must land in the dead-letter topic with the reason of its
kind; ingest must not stop or reconnect; and the good messages around them must all be on
their topics, exactly once: held to the same generated trades and quotes built in this process
from the same bars (``build_universe``), independent of the server's code.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from connectors.replay.feed import SynthConfig
from connectors.replay.hostile import KINDS
from connectors.replay.state import parse_start
from connectors.replay.universe import Universe, build_universe
from streamlines.settings import Settings
from tests.support.fault_streams import (
    dead_letters,
    ingest_settings,
    ingest_topics,
    running_ingest,
    shared_kafka,
    values,
    wait_for,
)
from tests.support.faults import report
from tests.support.replay import ReplayServer, started_replay_server

SYMBOLS = ["GOOG", "SP500"]
START = "2012-01-03T14:30:00Z"
HOSTILE = 100_000
# Paced, as a live feed is: about 1,600 good messages a second (and as many hostile ones),
# which ingest keeps up with on two cores. Unpaced, the server would fill the client's receive
# queue faster than ingest drains it, and the connection would die of unanswered pings.
SPEED = "1800"
TRADES_PER_MINUTE = "120"  # at most 5,000 a day: about 13 a replayed minute

# The reason each kind must be dead-lettered with.
REASONS = {
    "wrong_type": r"^invalid trade: price: Input should be a valid number",
    "bool_size": r"^invalid trade: size: Input should be a valid number",
    "nan_price": r"^invalid trade: price: Input should be a finite number",
    "inf_size": r"^invalid trade: size: Input should be a finite number",
    "negative_size": r"^invalid trade: size: Input should be greater than 0",
    "zero_size": r"^invalid trade: size: Input should be greater than 0",
    "huge_symbol": r"^invalid trade: symbol: String should have at most 32 characters",
    "crossed_quote": r"^invalid quote: .*crossed quote: bid [\d.]+ is above ask [\d.]+",
    "future_time": r"^invalid trade: t: 2200-01-01T00:00:00\.000000000Z is more than 300 s "
    r"ahead of the wall clock",
    "past_time": r"^invalid trade: t: 2011-.* is more than 3600 s behind the newest trade of",
    "duplicate": r"^invalid trade: duplicate trade: id \d+ of \w+ \(exchange V\) was already",
    "missing_field": r"^invalid trade: price: Field required",
    "bad_timestamp": r"^t: not an RFC 3339 timestamp: 'yesterday'",
    "unknown_type": r"^T: not a trade, quote or bar message \(42\)",
}


@pytest.fixture(scope="module")
def hostile_replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:
    args = ["--start", START, "--symbols", ",".join(SYMBOLS), "--speed", SPEED,
            "--trades-per-minute", TRADES_PER_MINUTE, "--hostile-every", "1",
            "--hostile-count", str(HOSTILE)]  # fmt: skip
    with started_replay_server(tmp_path_factory.mktemp("replay-hostile"), *args) as server:
        yield server


@pytest.fixture(scope="module")
def universe() -> Universe:
    return build_universe(
        symbols=SYMBOLS, synth=SynthConfig(trades_per_minute=float(TRADES_PER_MINUTE))
    )


def hostile_sent(replay: ReplayServer) -> Counter[str]:
    return Counter(replay.call("GET", "/control")["hostile_sent"])


def test_hostile_messages_are_dead_lettered_and_the_good_ones_all_processed(
    hostile_replay, universe
):
    base = Settings()
    bootstrap = shared_kafka(base)
    started = time.monotonic()
    with ingest_topics(base, "hostile") as topics:
        settings = ingest_settings(base, hostile_replay, topics)
        with running_ingest(settings, SYMBOLS) as run:
            router = run.router
            wait_for("hostile messages", lambda: router.counts["rejected"] >= HOSTILE, 200, router)
            after = router.counts["trade"] + 500  # good messages after the last hostile one
            wait_for(
                "good messages after them", lambda: router.counts["trade"] >= after, 30, router
            )
            connections = [s.connections for s in run.streams]
        sent = hostile_sent(hostile_replay)
        dead = dead_letters(bootstrap, topics)
        trades = values(bootstrap, topics.trades)
        quotes = values(bootstrap, topics.quotes)
    seconds = time.monotonic() - started

    by_kind: dict[str, list[str]] = {}
    for record in dead:
        raw = record["raw"]
        kind = raw.get("hostile", "none") if isinstance(raw, dict) else "none"
        by_kind.setdefault(kind, []).append(record["reason"])
    wrong_reason = {
        kind: next((r for r in reasons if not re.search(REASONS.get(kind, "^$"), r)), None)
        for kind, reasons in by_kind.items()
    }
    wrong_reason = {k: r for k, r in wrong_reason.items() if r is not None}

    last_t = max(t["t_ns"] for t in trades)
    compared = lost = duplicated = extra = 0
    for symbol in SYMBOLS:
        feed = universe.feeds[symbol]
        assert feed is not None
        expected = set(feed.trades_between(parse_start(START), last_t + 1).id.tolist())
        ids = [t["trade_id"] for t in trades if t["symbol"] == symbol]
        compared += len(expected)
        lost += len(expected - set(ids))
        extra += len(set(ids) - expected)
        duplicated += sum(n - 1 for n in Counter(ids).values())
        want_q = Counter(
            (t, bp, ap)
            for q in feed.quotes_between(parse_start(START), last_t + 1)
            for t, bp, ap in zip(
                q.t.tolist(), q.bid_price.tolist(), q.ask_price.tolist(), strict=True
            )
        )
        got_q = Counter(
            (q["t_ns"], q["bid_price"], q["ask_price"])
            for q in quotes
            if q["symbol"] == symbol and q["t_ns"] <= last_t
        )
        compared += sum(want_q.values())
        lost += sum((want_q - got_q).values())
        extra += sum((got_q - want_q).values())

    print(
        report(
            "6 hostile messages",
            hostile_sent=sum(sent.values()),
            dead_lettered=len(dead),
            kinds=len(sent),
            wrong_reasons=len(wrong_reason),
            good_compared=compared,
            lost=lost,
            duplicated=duplicated,
            extra=extra,
            reconnects=sum(connections) - len(connections),
            seconds=round(seconds, 1),
        )
    )
    assert sum(sent.values()) == HOSTILE
    assert set(sent) == set(KINDS), "every kind was sent"
    assert {k: len(v) for k, v in by_kind.items()} == dict(sent), "each in the DLQ, once"
    assert wrong_reason == {}, "each with the reason of its kind"
    assert router.error is None
    assert connections == [1], "no crash, no reconnect"
    assert (lost, duplicated, extra) == (0, 0, 0)
