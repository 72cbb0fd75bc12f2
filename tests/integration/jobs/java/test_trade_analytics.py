"""TradeAnalytics (jobs/java), the process table function that computes every ripples metric of a
symbol, gives the pandas references (tests/references/ripples.py) on trades and quotes generated
from real bars, sent out of order, through the ripples job's own sources and view.

The input is made to hit each rule of the function: rows held back by up to 1.5 s of event time
(within the 2 s watermark bound, so none is late), trades sharing a millisecond (taken in arrival
order), quotes sharing a millisecond with a trade and arriving after it (they count: "at or
before"), trades before a symbol's first quote (a null spread), a 7-minute pause (the 5-minute
window empties and fills again; the next return is to the trade before the pause), and a
1-second bar of zero-size trades (a null VWAP). The function runs on a local mini-cluster
checkpointing every 300 ms (``collect_sql``), so its state is snapshotted mid-stream too.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pytest

from connectors.replay.synth import BarSpec, bar_rng, generate_quotes, generate_trades
from connectors.sinks.kafka import ensure_topics
from jobs.common.functions import TRADE_ANALYTICS_DDL
from jobs.ripples.options import parse_args
from jobs.ripples.sql import VIEW_MARKET_EVENTS, source_ddl
from streamlines.contracts.events import Quote, Trade
from streamlines.contracts.time import NS_PER_MINUTE
from streamlines.datasets import load_bars
from tests.references.ripples import assert_records_match, reference_records
from tests.support.flink_sql import collect_sql
from tests.support.kafka import produce

QUERY = """SELECT symbol, record
FROM trade_analytics(input => TABLE market_events PARTITION BY symbol)"""

SYMBOLS = {"GOOG": "GOOG", "SPX": "SP500"}
MINUTES = 14  # a 7-minute pause after the 6th
PAUSED = range(6, 13)
DAY_NS = int(pd.Timestamp("2024-03-04 14:30", tz="UTC").value)
HOLD_BACK_MS = 1_500


def generated() -> tuple[pd.DataFrame, pd.DataFrame]:
    trades, quotes = [], []
    for symbol, dataset in SYMBOLS.items():
        bars = load_bars(dataset).iloc[200 : 200 + MINUTES]
        for i, row in enumerate(bars.itertuples()):
            if i in PAUSED:
                continue
            start = DAY_NS + i * NS_PER_MINUTE
            bar = BarSpec(
                row.open, row.high, row.low, row.close, row.volume, start, start + NS_PER_MINUTE
            )
            rng = bar_rng(11, symbol, i)
            tr = generate_trades(bar, 150, rng, tick=0.01, integral_volume=True, first_id=0)
            qu = generate_quotes(tr, bar, rng, tick=0.01, integral_volume=True)
            trades.append(
                pd.DataFrame({"symbol": symbol, "t_ns": tr.t, "price": tr.price, "size": tr.size})
            )
            quotes.append(
                pd.DataFrame(
                    {"symbol": symbol, "t_ns": qu.t, "bid_price": qu.bid_price,
                     "ask_price": qu.ask_price}
                )
            )  # fmt: skip
    t = pd.concat(trades).sort_values(["symbol", "t_ns"], ignore_index=True)
    q = pd.concat(quotes).sort_values(["symbol", "t_ns"], ignore_index=True)
    # Every 20th trade 1 ns after the one before (same millisecond: arrival order decides).
    tie = (t.groupby("symbol").cumcount() % 20 == 19).to_numpy()
    t_ns = t.t_ns.to_numpy().copy()
    t_ns[tie] = t_ns[np.flatnonzero(tie) - 1] + 1
    t["t_ns"] = t_ns
    # Every 15th trade gets a quote in its own millisecond, 1 ns after it (sent after it too).
    with_quote = t.iloc[7::15]
    extra = pd.DataFrame(
        {"symbol": with_quote.symbol, "t_ns": with_quote.t_ns + 1,
         "bid_price": with_quote.price - 0.05, "ask_price": with_quote.price + 0.07}
    )  # fmt: skip
    q = pd.concat([q, extra])
    # One quote per millisecond of a symbol (which of several wins is arrival order: not
    # pinned down here), and no quotes in each symbol's first 20 seconds.
    q = q.assign(ms=q.t_ns // 1_000_000).drop_duplicates(["symbol", "ms"], keep="last")
    q = q[q.t_ns >= DAY_NS + 20_000_000_000].drop(columns="ms")
    # A second of zero-size trades (null VWAP).
    second = t.t_ns // 1_000_000_000
    goog = second[(t.symbol == "GOOG") & (t.t_ns > DAY_NS + 30_000_000_000)]
    counts = goog.value_counts(sort=False).sort_index()
    zero = (t.symbol == "GOOG") & (second == counts.index[counts >= 2][0])
    t.loc[zero, "size"] = 0.0
    return t.reset_index(drop=True), q.sort_values(["symbol", "t_ns"], ignore_index=True)


def arrival_order(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """``frame``'s rows held back by up to HOLD_BACK_MS each, a millisecond's rows of a symbol
    together and in their order (so same-millisecond trades arrive in time order)."""
    ms = frame.t_ns // 1_000_000
    groups = frame.groupby([frame.symbol, ms]).ngroup().to_numpy()
    delay = rng.integers(0, HOLD_BACK_MS, groups.max() + 1)[groups]
    keyed = frame.assign(_at=ms + delay, _i=np.arange(len(frame)))
    return keyed.sort_values(["_at", "symbol", "_i"]).drop(columns=["_at", "_i"])


def run_function(settings, trades: pd.DataFrame, quotes: pd.DataFrame) -> list[list[Any]]:
    prefix = f"test-trade-analytics-{uuid.uuid4().hex[:8]}"
    trades_topic, quotes_topic = f"{prefix}-trades", f"{prefix}-quotes"
    ensure_topics(settings.kafka_bootstrap, [trades_topic, quotes_topic], partitions=1)
    produce(
        settings.kafka_bootstrap, trades_topic,
        # model_construct: the contract refuses zero sizes, the job's filter lets them in.
        [Trade.model_construct(symbol=r.symbol, t_ns=int(r.t_ns), price=float(r.price),
                               size=float(r.size), trade_id=None, exchange=None,
                               conditions=(), tape=None)
         for r in trades.itertuples()],
    )  # fmt: skip
    produce(
        settings.kafka_bootstrap, quotes_topic,
        [Quote(symbol=r.symbol, t_ns=int(r.t_ns), bid_price=float(r.bid_price), bid_size=1.0,
               ask_price=float(r.ask_price), ask_size=1.0)
         for r in quotes.itertuples()],
    )  # fmt: skip
    opts = parse_args(
        ["--bootstrap", settings.kafka_bootstrap, "--bounded",
         "--trades-topic", trades_topic, "--quotes-topic", quotes_topic]
    )  # fmt: skip
    return collect_sql([*source_ddl(opts), TRADE_ANALYTICS_DDL, VIEW_MARKET_EVENTS], QUERY)


@pytest.mark.usefixtures("stack")  # its topics are on the stack's Kafka
def test_the_function_gives_the_pandas_references(settings):
    trades, quotes = generated()
    rng = np.random.default_rng(20261205)
    rows = run_function(settings, arrival_order(trades, rng), arrival_order(quotes, rng))

    got: dict[str, dict[tuple[str, int], dict[str, Any]]] = defaultdict(dict)
    for key, record in rows:
        parsed = json.loads(record)
        symbol, metric, t_ns, values = (parsed[k] for k in ("symbol", "metric", "t_ns", "values"))
        assert key == symbol
        assert (symbol, t_ns) not in got[metric], f"{metric} {symbol} {t_ns} twice"
        got[metric][(symbol, t_ns)] = values
    expected = reference_records(trades, quotes)
    assert_records_match(got, expected)

    # The input hit what it was made for.
    spread = expected["spread"]
    assert spread.bid.isna().sum() > 100
    assert spread.bid.notna().sum() > 1_000
    assert expected["bar_1s"].vwap.isna().sum() == 1
    rolling = expected["rolling_5m"]
    after_pause = rolling[rolling.t_ns >= DAY_NS + PAUSED.stop * NS_PER_MINUTE]
    assert (after_pause.groupby("symbol").price_count.min() == 1).all()
    same_ms = trades.groupby([trades.symbol, trades.t_ns // 1_000_000]).size()
    assert (same_ms > 1).sum() > 50
