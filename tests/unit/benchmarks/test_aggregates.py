"""benchmarks.aggregates (the peers' and the Python baseline's state) against the independent
pandas references of tests/references/ripples.py, on trades and quotes generated from real bars
(the benchmarks' own workload: 4 symbols, ~9 minutes of event time, so the 5-minute window fills
and slides). The workload has trades sharing a millisecond and quotes in a trade's millisecond,
the cases where "all of that millisecond" and "at or before" matter."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from benchmarks.aggregates import AsOf, Bar, Rolling, spread_values
from benchmarks.workload import Events, generate_events
from streamlines.contracts.time import NS_PER_SECOND
from tests.references.ripples import (
    assert_close,
    reference_bars,
    reference_rolling,
    reference_spread,
)


@pytest.fixture(scope="module")
def events() -> Events:
    return generate_events(20_000)


def frames(events: Events) -> tuple[pd.DataFrame, pd.DataFrame]:
    symbols = [events.symbols[i] for i in events.trade_symbol]
    trades = pd.DataFrame(
        {"symbol": symbols, "t_ns": events.trade_t, "price": events.trade_price,
         "size": events.trade_size}
    )  # fmt: skip
    quotes = pd.DataFrame(
        {"symbol": [events.symbols[i] for i in events.quote_symbol], "t_ns": events.quote_t,
         "bid_price": events.quote_bid, "ask_price": events.quote_ask}
    )  # fmt: skip
    return trades, quotes


def test_the_input_has_the_tie_cases(events):
    trades, quotes = frames(events)
    ms = trades.t_ns // 1_000_000
    assert trades.assign(ms=ms).duplicated(["symbol", "ms"]).any()
    quote_ms = set(zip(quotes.symbol, quotes.t_ns // 1_000_000, strict=True))
    assert any(key in quote_ms for key in zip(trades.symbol, ms, strict=True))


def test_rolling_equals_pandas(events):
    trades, _ = frames(events)
    windows: dict[str, Rolling] = {}
    got: dict[tuple[str, int], dict] = {}
    for row in trades.itertuples():
        window = windows.setdefault(row.symbol, Rolling({}))
        for t_ns, values in window.add(int(row.t_ns), float(row.price)):
            got[(row.symbol, t_ns)] = values
    for symbol, window in windows.items():
        for t_ns, values in window.finish():
            got[(symbol, t_ns)] = values
    expected = reference_rolling(trades)
    assert len(got) == len(expected) == len(trades)
    for row in expected.to_dict("records"):
        key = (row.pop("symbol"), int(row.pop("t_ns")))
        assert_close(got[key], row, f"rolling {key}")


def test_rolling_state_survives_a_snapshot_round_trip(events):
    """What the Quix peer does per message: scalar state saved and restored, entries in a
    key-value store."""
    trades, _ = frames(events)
    trades = trades[trades.symbol == "GOOG"].head(4000)
    entries: dict[int, list] = {}
    saved = None
    restored = []
    for row in trades.itertuples():
        window = Rolling(entries, saved)
        restored += window.add(int(row.t_ns), float(row.price))
        saved = window.snapshot()
    restored += Rolling(entries, saved).finish()
    plain = Rolling({})
    direct = [out for row in trades.itertuples() for out in plain.add(int(row.t_ns), row.price)]
    assert restored == direct + plain.finish()
    assert len(entries) < len(trades)  # entries that left the window were deleted


def test_as_of_equals_pandas_in_any_interleaving(events):
    """Trades and quotes of one symbol each in time order, but interleaved at random (as two
    topics are read): the as-of join waits for the quotes and matches merge_asof. Quotes that
    share a millisecond with another quote of their symbol are left out: the reference's sort
    does not keep their order (the next test has that case)."""
    trades, quotes = frames(events)
    quotes = quotes[
        ~quotes.assign(ms=quotes.t_ns // 1_000_000).duplicated(["symbol", "ms"], keep=False)
    ]
    expected = reference_spread(trades, quotes)
    rng = random.Random(3)
    joins: dict[str, AsOf] = {}
    got: dict[tuple[str, int], dict] = {}
    streams = [
        [("t", r.symbol, int(r.t_ns), 0.0, 0.0) for r in trades.itertuples()],
        [("q", r.symbol, int(r.t_ns), r.bid_price, r.ask_price) for r in quotes.itertuples()],
    ]
    while streams[0] or streams[1]:
        side = rng.choice([s for s in streams if s])
        n = rng.randint(1, 500)
        for kind, symbol, t_ns, bid, ask in side[:n]:
            join = joins.setdefault(symbol, AsOf())
            out = join.quote(t_ns, bid, ask) if kind == "q" else join.trade(t_ns)
            got.update({(symbol, t): values for t, values in out})
        del side[:n]
    for symbol, join in joins.items():
        got.update({(symbol, t): values for t, values in join.finish()})
    assert len(got) == len(expected) == len(trades)
    for row in expected.to_dict("records"):
        key = (row.pop("symbol"), int(row.pop("t_ns")))
        assert_close(got[key], row, f"spread {key}")


def test_as_of_without_a_quote_yet_is_null_and_a_millisecond_takes_its_last_quote():
    join = AsOf()
    assert join.trade(5_000_000) == []
    assert join.quote(6_000_000, 1.0, 1.2) == [(5_000_000, spread_values(None, None))]
    assert join.trade(6_500_000) == []  # its millisecond may still get quotes
    assert join.quote(6_900_000, 2.0, 2.5) == []  # a later quote of the same millisecond
    [(t_ns, values)] = join.finish()
    assert t_ns == 6_500_000
    assert values == {"bid": 2.0, "ask": 2.5, "spread": 0.5, "mid": 2.25}


def test_bars_equal_pandas(events):
    trades, _ = frames(events)
    bars: dict[tuple[str, int], Bar] = {}
    for row in trades.itertuples():
        key = (row.symbol, int(row.t_ns) // NS_PER_SECOND)
        if key in bars:
            bars[key].add(row.price, row.size)
        else:
            bars[key] = Bar(key[1], row.price, row.size)
    expected = reference_bars(trades, 1)
    assert len(bars) == len(expected)
    for row in expected.to_dict("records"):
        key = (row.pop("symbol"), int(row.pop("t_ns")) // NS_PER_SECOND - 1)
        assert_close(bars[key].values(), row, f"bar {key}")


def test_as_of_state_survives_a_json_round_trip_per_event(events):
    """What the Quix peer does per event: the join saved as JSON and restored."""
    trades, quotes = frames(events)
    merged = sorted(
        [(int(r.t_ns), 1, 0.0, 0.0) for r in trades[trades.symbol == "SPX"].itertuples()]
        + [
            (int(r.t_ns), 0, r.bid_price, r.ask_price)
            for r in quotes[quotes.symbol == "SPX"].itertuples()
        ]
    )
    saved, restored, direct = None, [], []
    plain = AsOf()
    for t_ns, is_trade, bid, ask in merged:
        join = AsOf(json.loads(json.dumps(saved)) if saved else None)
        restored += join.trade(t_ns) if is_trade else join.quote(t_ns, bid, ask)
        saved = join.snapshot()
        direct += plain.trade(t_ns) if is_trade else plain.quote(t_ns, bid, ask)
    restored += AsOf(saved).finish()
    assert restored == direct + plain.finish()
    assert len(restored) == (trades.symbol == "SPX").sum()
