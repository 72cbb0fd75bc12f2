"""What per-symbol order costs the Kinesis sink: records/s written to the local stack's Kinesis
(kinesis-mock) with ``ordered=True`` (the default: at most one record per symbol in each
PutRecords request, so a symbol's records stay in order on retry) beside ``ordered=False``
(full 500-record requests, as the sink wrote before; no order on retry).

Each run writes ``--records`` trades spread evenly at random over ``--keys`` symbols to a fresh
one-shard stream through ``KinesisSink`` (batches of 500, then a flush) and times it to the last
acknowledgement; the two modes alternate, and the median of ``--runs`` runs of each is printed.

    python -m benchmarks.kinesis_sink [--records 20000] [--keys 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from typing import Any

from connectors.sinks.kinesis import KinesisSink, ensure_streams
from streamlines.contracts.events import Trade
from streamlines.settings import Settings
from streamlines.stack.services.kinesis import kinesis_client


def trades(records: int, keys: int) -> list[Trade]:
    rng = random.Random(42)
    symbols = [f"SYM{k}" for k in range(keys)]
    return [
        Trade(symbol=rng.choice(symbols), t_ns=1_700_000_000_000_000_000 + n, price=100.0, size=1)
        for n in range(records)
    ]


def one_run(client: Any, endpoint: str | None, events: list[Trade], ordered: bool) -> float:
    """Records per second through a sink of the given mode, into a fresh stream."""
    name = f"bench-kinesis-sink-{uuid.uuid4().hex[:8]}"
    ensure_streams(client, [name], endpoint)
    try:
        sink = KinesisSink(client, linger=None, ordered=ordered)
        started = time.perf_counter()
        for event in events:
            sink.send(name, event)
        sink.flush()
        elapsed = time.perf_counter() - started
        assert sink.counters.acked == len(events), sink.counters
        return len(events) / elapsed
    finally:
        client.delete_stream(StreamName=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    settings = Settings()
    client = kinesis_client(settings.kinesis_endpoint, settings.aws_region)
    events = trades(args.records, args.keys)
    rates: dict[bool, list[float]] = {True: [], False: []}
    for run in range(1, args.runs + 1):
        for ordered in (True, False):
            rate = one_run(client, settings.kinesis_endpoint, events, ordered)
            rates[ordered].append(rate)
            print(f"run {run}, ordered={ordered}: {rate:,.0f} records/s")
    ordered_rate, unordered_rate = (statistics.median(rates[o]) for o in (True, False))
    print(
        f"Kinesis sink at {settings.kinesis_endpoint or 'AWS'}, {args.records:,} records over "
        f"{args.keys} keys, median of {args.runs}: ordered {ordered_rate:,.0f} records/s, "
        f"unordered {unordered_rate:,.0f} records/s ({ordered_rate / unordered_rate:.2f}x)"
    )


if __name__ == "__main__":
    main()
