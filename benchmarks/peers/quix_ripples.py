"""The ripples workload in Quix Streams (pinned in ``setup.sh``), run in the peers' virtualenv.

Reads the pre-filled trades and quotes topics from the start, writes records of the ripples
job's shape ``{"symbol", "metric", "t_ns", "values"}`` keyed by symbol to ``--output-topic``:

- ``bar_1s`` / ``bar_1m``: Quix's own tumbling windows (``tumbling_window(...).agg(First, Max,
  Min, Last, Sum, Count).final()``), event time = ``t_ns`` in ms (a ``timestamp_extractor``).
- ``spread``: custom state (``apply(stateful=True)`` on trades and quotes concatenated, with
  ``benchmarks.aggregates.AsOf`` saved per symbol). Quix's own ``join_asof`` looks the latest
  quote up when the trade is processed; Quix reads joined topics in record-timestamp order (the
  workload stamps each record with its event time), but at a millisecond shared by a trade and
  a quote which comes first depends on the order it was assigned the two topics in: in one run
  the trade came first and ~4 % of the spreads took the quote before (the runner's check
  caught it; another run matched). AsOf holds a trade until a quote of a later millisecond
  arrived, as the job's event-time temporal join does.
- ``rolling_5m``: custom state (``apply(stateful=True)``): Quix's sliding windows emit one
  aggregate per window end and update every open window per message (~3,000 here), and none
  gives each trade the statistics of ``[t - 5 min, t]`` with its millisecond's later trades
  included. So: ``benchmarks.aggregates.Rolling``'s running sums in Quix's key-value state, one
  state key per window entry (a trade writes one entry and deletes the ones that left), the
  sums under one more key.

Quix has no bounded mode: an application runs until stopped. The end of input is a marker per
symbol in a small topic of the run's own (``<group>-end``, created and filled here before the
start), concatenated with the trades: its timestamp is the start's wall-clock time, past the
pre-filled data, so Quix's timestamp-ordered reading takes it last; it closes each symbol's
windows, flushes the rolling state, and the last one stops the application. Settings are
Quix's defaults (at-least-once, state in RocksDB with changelog topics, commit every 5 s)
except reading from the earliest offset. Prints one ``PEER-RESULT`` JSON line: trades read,
seconds and the process's CPU seconds from ``run()`` to its end.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file in the peers' venv: import the repo's modules
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from quixstreams import Application  # type: ignore[import-not-found]
from quixstreams.dataframe.windows import (  # type: ignore[import-not-found]
    Count,
    First,
    Last,
    Max,
    Min,
    Sum,
)

from benchmarks.aggregates import AsOf, Rolling, bar_values, record
from benchmarks.peers.peer_cli import PeerArgs, Stopwatch, parse_args, print_result
from streamlines.contracts.metrics import (
    METRIC_BAR_1M,
    METRIC_BAR_1S,
    METRIC_ROLLING,
    METRIC_SPREAD,
)
from streamlines.contracts.time import NS_PER_MILLISECOND

# The helper topics take records stamped with any event time (EVENT_TIME_TOPIC_CONFIG's reason).
TOPIC_CONFIG = {
    "retention.ms": "-1",
    "segment.ms": str(2**63 - 1),
    "message.timestamp.before.max.ms": str(2**63 - 1),
}


def event_ms(value: Any, headers: Any, timestamp: float, timestamp_type: Any) -> int:
    return int(value["t_ns"] // NS_PER_MILLISECOND)


def prepare_topics(args: PeerArgs, end_topic: str) -> None:
    """The output topic, and the end topic with one marker per symbol. The markers' event time
    is now (Kafka refuses timestamps more than an hour ahead), after any pre-filled event."""
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    new = [NewTopic(t, 1, 1, config=TOPIC_CONFIG) for t in (end_topic, args.output_topic)]
    for future in admin.create_topics(new).values():
        future.result(30)
    end_ms = int(time.time() * 1000)
    producer = Producer({"bootstrap.servers": args.bootstrap})
    for symbol in args.symbols:
        marker = {"symbol": symbol, "t_ns": end_ms * NS_PER_MILLISECOND, "price": 0.0, "size": 0.0}
        producer.produce(
            end_topic, key=symbol, value=json.dumps({**marker, "end": True}), timestamp=end_ms
        )
    if producer.flush(30):
        raise SystemExit(f"could not write the end markers to {end_topic}")


class StateEntries:
    """Rolling's window entries in Quix's per-key state, one state key each."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def __getitem__(self, index: int) -> list[Any]:
        entry: list[Any] = self.state.get(f"e{index}")
        return entry

    def __setitem__(self, index: int, entry: list[Any]) -> None:
        self.state.set(f"e{index}", entry)

    def __delitem__(self, index: int) -> None:
        self.state.delete(f"e{index}")


def build(app: Any, args: PeerArgs, end_topic: str) -> None:
    trades_topic = app.topic(
        args.trades_topic, key_deserializer="str", timestamp_extractor=event_ms
    )
    quotes_topic = app.topic(
        args.quotes_topic, key_deserializer="str", timestamp_extractor=event_ms
    )
    end = app.topic(end_topic, key_deserializer="str", timestamp_extractor=event_ms)
    output = app.topic(args.output_topic, key_serializer="str", value_serializer="json")

    trades = app.dataframe(trades_topic).concat(app.dataframe(end))
    trades["pv"] = trades["price"] * trades["size"]

    for metric, width_ms in ((METRIC_BAR_1S, 1_000), (METRIC_BAR_1M, 60_000)):
        bars = (
            trades.tumbling_window(duration_ms=width_ms)
            .agg(
                open=First("price"),
                high=Max("price"),
                low=Min("price"),
                close=Last("price"),
                volume=Sum("size"),
                pv=Sum("pv"),
                count=Count(),
            )
            .final()
        )

        def bar_record(bar: dict, key: str, timestamp: int, headers: Any, metric=metric) -> dict:
            values = bar_values(
                bar["open"], bar["high"], bar["low"], bar["close"],
                bar["volume"], bar["pv"], bar["count"],
            )  # fmt: skip
            return record(key, metric, bar["end"] * NS_PER_MILLISECOND, values)

        bars.apply(bar_record, metadata=True).to_topic(output)

    ends_seen = 0

    def rolling(trade: dict, state: Any) -> list[dict]:
        nonlocal ends_seen
        window = Rolling(StateEntries(state), state.get("sums"))
        if trade.get("end"):
            out = window.finish()
            ends_seen += 1
            if ends_seen == len(args.symbols):
                app.stop()  # after this message: every symbol's end has gone through
        else:
            out = window.add(trade["t_ns"], trade["price"])
        state.set("sums", window.snapshot())
        symbol = trade["symbol"]
        return [record(symbol, METRIC_ROLLING, t_ns, values) for t_ns, values in out]

    trades.apply(rolling, stateful=True, expand=True).to_topic(output)

    def spread(event: dict, state: Any) -> list[dict]:
        join = AsOf(state.get("as_of"))
        if event.get("end"):
            out = join.finish()
        elif "bid_price" in event:
            out = join.quote(event["t_ns"], event["bid_price"], event["ask_price"])
        else:
            out = join.trade(event["t_ns"])
        state.set("as_of", join.snapshot())
        symbol = event["symbol"]
        return [record(symbol, METRIC_SPREAD, t_ns, values) for t_ns, values in out]

    both = trades.concat(app.dataframe(quotes_topic))
    both.apply(spread, stateful=True, expand=True).to_topic(output)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    end_topic = f"{args.group}-end"
    prepare_topics(args, end_topic)
    trades_read = 0

    def count(topic: str, partition: int, offset: int) -> None:
        nonlocal trades_read
        if topic == args.trades_topic:
            trades_read += 1

    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        state_dir=args.state_dir,
        loglevel="WARNING",
        on_message_processed=count,
    )
    build(app, args, end_topic)
    watch = Stopwatch()
    app.run()
    print_result(watch.result(trades_read))


if __name__ == "__main__":
    main()
