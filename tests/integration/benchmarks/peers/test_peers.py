"""The peers (Quix Streams, Bytewax) on the stack's Kafka, each checked against the independent
pandas references of tests/references/ripples.py: the benchmarks' workload (trades and quotes
generated from real bars, 4 symbols, ~6 minutes of event time so the 5-minute window slides,
with trades sharing a millisecond and quotes in a trade's millisecond) pre-filled into fresh
topics, each peer run as the benchmark runs it (its own process in the peers' virtualenv), and
every record it wrote compared. Skipped when the peers' virtualenv is missing
(benchmarks/peers/setup.sh, or make bench-peers, creates it)."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.peers.compare import differences
from benchmarks.peers.runner import PEER_SCRIPTS, clean_up, peer, peers_python, read_records
from benchmarks.workload import Events, generate_events, prefill
from streamlines.contracts.metrics import (
    METRIC_BAR_1M,
    METRIC_BAR_1S,
    METRIC_ROLLING,
    METRIC_SPREAD,
)
from tests.references.ripples import reference_bars, reference_rolling, reference_spread

TRADES = 15_000


def expected_records(events: Events) -> list[dict]:
    """The pandas references as records of the job's shape. Several quotes of one symbol in one
    millisecond: the last one counts (the job's "last to arrive"), so the reference gets only
    that one (the reference's own sort does not keep their order)."""
    trades = pd.DataFrame(
        {"symbol": [events.symbols[i] for i in events.trade_symbol], "t_ns": events.trade_t,
         "price": events.trade_price, "size": events.trade_size}
    )  # fmt: skip
    quotes = pd.DataFrame(
        {"symbol": [events.symbols[i] for i in events.quote_symbol], "t_ns": events.quote_t,
         "bid_price": events.quote_bid, "ask_price": events.quote_ask}
    )  # fmt: skip
    last_quotes = quotes.assign(ms=quotes.t_ns // 1_000_000).drop_duplicates(
        ["symbol", "ms"], keep="last"
    )
    frames = {
        METRIC_BAR_1S: reference_bars(trades, 1),
        METRIC_BAR_1M: reference_bars(trades, 60),
        METRIC_ROLLING: reference_rolling(trades),
        METRIC_SPREAD: reference_spread(trades, last_quotes.drop(columns="ms")),
    }
    records = []
    for metric, frame in frames.items():
        for row in frame.to_dict("records"):
            symbol, t_ns = row.pop("symbol"), int(row.pop("t_ns"))
            values = {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
            records.append({"symbol": symbol, "metric": metric, "t_ns": t_ns, "values": values})
    return records


@pytest.fixture(scope="module")
def expected() -> list[dict]:
    return expected_records(generate_events(TRADES))


@pytest.mark.parametrize("system", sorted(PEER_SCRIPTS))
def test_peer_matches_pandas(stack, settings, unique_name, expected, system):
    if not peers_python(settings).exists():
        pytest.skip(
            f"no peers virtualenv at {peers_python(settings).parent.parent}: "
            "run benchmarks/peers/setup.sh (or make bench-peers)"
        )
    workload = prefill(settings, TRADES, prefix=unique_name)
    name = f"{unique_name}-run"
    try:
        run = peer(settings, system, workload, name)
        wrong = differences(read_records(settings, run.output_topic), expected)
    finally:
        clean_up(settings, name)
    assert run.trades == TRADES
    assert run.records == len(expected)
    assert wrong == []
