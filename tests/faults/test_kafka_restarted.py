"""Fault 2: the Kafka broker dies (``kill -9``) and is started again while `streamlines ingest`
streams the replay server's trades into it.

What holds the data: the one producer helper (connectors/sinks/kafka.py) sends with
``acks=all``, retries until its delivery timeout (120 s) and is idempotent, so what was in flight
when the broker died is sent again and the broker, which keeps each producer's sequence
numbers in its log, takes each record once. Ingest holds up to 10,000 unacknowledged records
meanwhile (back-pressure beyond that).

Afterwards the trades topic holds exactly the trades the replay server serves over the same
span from its REST API (the alpaca historical endpoint): 0 lost, 0 duplicated.
"""

from __future__ import annotations

import time
from collections import Counter

import pandas as pd

from connectors.sinks.kafka import ensure_topics
from connectors.topic_reader import read_to_end
from streamlines.child import replay_server_process
from streamlines.contracts.events import Trade
from tests.e2e.test_replay_to_graphql import replay_rest_trades
from tests.support.faults import report
from tests.support.private_stack import PrivateStack
from tests.support.processes import start_cli

SYMBOLS = ("GOOG", "SP500")
INGEST_SECONDS = 40
KILL_AT_S = 12  # into ingest
DOWN_S = 3  # from the kill until the stack manager starts the broker again


def end_offset(bootstrap: str, topic: str) -> int:
    return len(read_to_end(bootstrap, topic))


def test_a_restarted_broker_loses_and_duplicates_no_trade(fault_stack: PrivateStack, tmp_path):
    bootstrap = fault_stack.settings.kafka_bootstrap
    topics = {kind: f"fault2.{kind}" for kind in ("trades", "quotes", "bars")}
    ensure_topics(bootstrap, list(topics.values()))
    replay_args = ("--symbols", ",".join(SYMBOLS), "--speed", "60", "--start", "2012-01-03",
                   "--trades-per-minute", "60")  # fmt: skip
    with replay_server_process(*replay_args, log_path=tmp_path / "replay.log") as port:
        env = {
            **fault_stack.env,
            "STREAMLINES_REPLAY_PORT": str(port),
            "STREAMLINES_INGEST_TOPIC_TRADES": topics["trades"],
            "STREAMLINES_INGEST_TOPIC_QUOTES": topics["quotes"],
            "STREAMLINES_INGEST_TOPIC_BARS": topics["bars"],
        }
        ingest = start_cli("ingest", "--symbols", ",".join(SYMBOLS), "--crypto", "",
                           "--duration", str(INGEST_SECONDS), env=env)  # fmt: skip
        time.sleep(KILL_AT_S)
        before = end_offset(bootstrap, topics["trades"])
        fault_stack.kill("kafka")
        killed_at = time.monotonic()
        time.sleep(DOWN_S)
        fault_stack.stack.up(["kafka"])
        recovery_s = time.monotonic() - killed_at
        out, err = ingest.communicate(timeout=INGEST_SECONDS + 180)
        assert ingest.returncode == 0, (out + err)[-3000:]

        trades = pd.DataFrame(
            [
                Trade.from_wire(r.value).model_dump()
                for r in read_to_end(bootstrap, topics["trades"])
            ]
        )
        lost: Counter[tuple[int, float]] = Counter()
        duplicated: Counter[tuple[int, float]] = Counter()
        for symbol, group in trades.groupby("symbol"):
            first, last = pd.Timestamp(group.t_ns.min()), pd.Timestamp(group.t_ns.max())
            served = Counter(
                (t, p)
                for t, p in replay_rest_trades(
                    port, str(symbol), first.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    (last + pd.Timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                )
                if first.value <= t <= last.value
            )  # fmt: skip
            got = Counter(zip(group.t_ns, group.price, strict=True))
            lost += served - got
            duplicated += got - served
    repeated_ids = int(trades.duplicated(["symbol", "trade_id"]).sum())
    print(
        report(
            "2 Kafka broker killed and restarted during ingest",
            trades_compared=len(trades),
            lost=sum(lost.values()),
            duplicated=sum(duplicated.values()),
            repeated_trade_ids=repeated_ids,
            on_the_topic_before_the_kill=before,
            time_to_recover_s=round(recovery_s, 1),
        )
    )
    assert before > 0, "the broker was killed before ingest wrote anything"
    assert len(trades) > before, "ingest wrote nothing after the restart"
    assert not lost, f"{sum(lost.values())} trades lost, e.g. {list(lost)[:3]}"
    assert not duplicated, f"{sum(duplicated.values())} duplicated, e.g. {list(duplicated)[:3]}"
    assert repeated_ids == 0
