"""The ripples workload in Bytewax (pinned in ``setup.sh``), run in the peers' virtualenv.

Reads the pre-filled trades and quotes topics from the start to their end (``KafkaSource(...,
tail=False)``: Bytewax's bounded read, which ends the dataflow), writes records of the ripples
job's shape ``{"symbol", "metric", "t_ns", "values"}`` keyed by symbol to ``--output-topic``:

- ``bar_1s`` / ``bar_1m``: Bytewax's own windowing, ``fold_window`` with an ``EventClock`` on
  ``t_ns`` (in ms, 2 s of allowed lateness as the job's watermarks) and a ``TumblingWindower``
  aligned to the epoch; the end of input closes the last windows.
- ``rolling_5m``: ``op.stateful`` with ``benchmarks.aggregates.Rolling`` (running sums that
  each trade enters and leaves 5 minutes later): Bytewax's ``SlidingWindower`` emits per window,
  not per trade, and folds every item into each overlapping window.
- ``spread``: Bytewax has no event-time as-of join (``op.join`` pairs the latest values per
  key in arrival order), so trades and quotes are merged and joined in ``op.stateful`` with
  ``benchmarks.aggregates.AsOf``: a trade waits until a later quote of its symbol arrived (or
  the input ended) and takes the latest quote at or before its millisecond.

One worker in one process (``bytewax.run``'s default; the peers are compared per process), no
recovery, the connector's default batch size. Prints one ``PEER-RESULT`` JSON line: trades read,
seconds and the process's CPU seconds from the dataflow's start to its end.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file in the peers' venv: import the repo's modules
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import bytewax.operators as op  # type: ignore[import-not-found]
from bytewax.connectors.kafka import (  # type: ignore[import-not-found]
    KafkaSink,
    KafkaSinkMessage,
    KafkaSource,
)
from bytewax.dataflow import Dataflow  # type: ignore[import-not-found]
from bytewax.operators import StatefulLogic
from bytewax.operators.windowing import (  # type: ignore[import-not-found]
    EventClock,
    TumblingWindower,
    fold_window,
)
from bytewax.run import cli_main  # type: ignore[import-not-found]

from benchmarks.aggregates import AsOf, Bar, Rolling, Values, record
from benchmarks.peers.peer_cli import PeerArgs, Stopwatch, parse_args, print_result
from streamlines.contracts.metrics import (
    METRIC_BAR_1M,
    METRIC_BAR_1S,
    METRIC_ROLLING,
    METRIC_SPREAD,
)
from streamlines.contracts.time import NS_PER_MILLISECOND

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The EventClock's watermark is the latest event time seen minus this, plus the wall-clock time
# since: with 0, a trade processed a millisecond of wall-clock time after the one before it
# finds its window closed when it lies within a millisecond of the window's end. The ripples
# job's out-of-orderness bound; a stall longer than this would drop trades as late (the runner
# compares each run's record count with ripples').
LATENESS = timedelta(seconds=2)
encode = json.JSONEncoder(separators=(",", ":")).encode


def event_time(trade: dict) -> datetime:
    return EPOCH + timedelta(milliseconds=trade["t_ns"] // NS_PER_MILLISECOND)


def message(symbol: str, metric: str, t_ns: int, values: Values) -> KafkaSinkMessage:
    value = encode(record(symbol, metric, t_ns, values)).encode()
    return KafkaSinkMessage(symbol.encode(), value)


def fold_bar(bar: Bar | None, trade: dict) -> Bar:
    if bar is None:
        return Bar(0, trade["price"], trade["size"])
    bar.add(trade["price"], trade["size"])
    return bar


class RollingLogic(StatefulLogic):
    def __init__(self) -> None:
        self.entries: dict[int, list[Any]] = {}
        self.window = Rolling(self.entries)

    def on_item(self, trade: dict) -> tuple[list[tuple[int, Values]], bool]:
        return self.window.add(trade["t_ns"], trade["price"]), StatefulLogic.RETAIN

    def on_eof(self) -> tuple[list[tuple[int, Values]], bool]:
        return self.window.finish(), StatefulLogic.DISCARD

    def snapshot(self) -> dict[str, Any]:
        return {"sums": self.window.snapshot(), "entries": dict(self.entries)}


class AsOfLogic(StatefulLogic):
    def __init__(self) -> None:
        self.join = AsOf()

    def on_item(self, event: tuple) -> tuple[list[tuple[int, Values]], bool]:
        if event[0] == "q":
            return self.join.quote(event[1], event[2], event[3]), StatefulLogic.RETAIN
        return self.join.trade(event[1]), StatefulLogic.RETAIN

    def on_eof(self) -> tuple[list[tuple[int, Values]], bool]:
        return self.join.finish(), StatefulLogic.DISCARD

    def snapshot(self) -> AsOf:
        return self.join


def build(
    args: PeerArgs,
    counter: list[int],
    source: Callable[[str], Any] | None = None,
    sink: Any = None,
) -> Dataflow:
    """The dataflow; ``source(topic)`` and ``sink`` default to Kafka's (bounded source)."""
    flow = Dataflow("ripples")
    brokers = [args.bootstrap]
    source = source or (lambda topic: KafkaSource(brokers, [topic], tail=False))

    def parse_trade(msg: Any) -> tuple[str, dict]:
        counter[0] += 1
        return msg.key.decode(), json.loads(msg.value)

    raw_trades = op.input("trades", flow, source(args.trades_topic))
    trades = op.map("parse_trades", raw_trades, parse_trade)
    raw_quotes = op.input("quotes", flow, source(args.quotes_topic))
    quotes = op.map("parse_quotes", raw_quotes, lambda m: (m.key.decode(), json.loads(m.value)))

    outputs = []
    for metric, width_ms in ((METRIC_BAR_1S, 1_000), (METRIC_BAR_1M, 60_000)):
        windows = fold_window(
            metric,
            trades,
            EventClock(event_time, wait_for_system_duration=LATENESS),
            TumblingWindower(length=timedelta(milliseconds=width_ms), align_to=EPOCH),
            lambda: None,
            fold_bar,
            lambda a, b: a,
        )
        outputs.append(
            op.map(
                f"{metric}_out",
                windows.down,
                lambda item, metric=metric, width_ms=width_ms: message(
                    item[0],
                    metric,
                    (item[1][0] + 1) * width_ms * NS_PER_MILLISECOND,
                    item[1][1].values(),
                ),
            )
        )

    rolling = op.stateful("rolling", trades, lambda _resume: RollingLogic())
    outputs.append(
        op.map("rolling_out", rolling, lambda kv: message(kv[0], METRIC_ROLLING, *kv[1]))
    )

    tagged_trades = op.map("tag_trades", trades, lambda kv: (kv[0], ("t", kv[1]["t_ns"])))
    tagged_quotes = op.map(
        "tag_quotes",
        quotes,
        lambda kv: (kv[0], ("q", kv[1]["t_ns"], kv[1]["bid_price"], kv[1]["ask_price"])),
    )
    both = op.merge("trades_and_quotes", tagged_trades, tagged_quotes)
    spread = op.stateful("spread", both, lambda _resume: AsOfLogic())
    outputs.append(op.map("spread_out", spread, lambda kv: message(kv[0], METRIC_SPREAD, *kv[1])))

    op.output(
        "out",
        op.merge("all_out", *outputs),
        sink or KafkaSink(brokers, args.output_topic),
    )
    return flow


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    counter = [0]
    flow = build(args, counter)
    watch = Stopwatch()
    cli_main(flow)
    print_result(watch.result(counter[0]))


if __name__ == "__main__":
    main()
