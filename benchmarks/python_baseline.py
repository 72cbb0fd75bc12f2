"""The ripples bars and rolling statistics done by one plain Python Kafka consumer: a baseline.

What the Flink job is compared with: a kafka-python ``KafkaConsumer`` reads a pre-filled trades
topic from the start up to its end offsets at start (like ``ripples --bounded``), computes per
symbol the 1-second and 1-minute OHLCV bars with VWAP and trade count (``bar_1s``, ``bar_1m``)
and, at each trade, the 5-minute rolling mean / sample std / count of the price and of the log
return (``rolling_5m``, window ``[t - 5 min, t]`` in milliseconds, all trades of the same
millisecond included, as the job's RANGE window does), and produces JSON records of the job's
shape ``{"symbol", "metric", "t_ns", "values"}`` keyed by symbol to an output topic.

Written straightforwardly but not naively: stdlib ``json``, one small state object per symbol,
the rolling window as a deque with running sums (added on the way in, subtracted on the way
out), a producer with big batches. It assumes trades arrive in event-time order (true for the
pre-filled topic) instead of handling watermarks, and it does **not** do the job's fourth
metric (``spread``: the as-of join with quotes), so it does less work than the job.

    python -m benchmarks.python_baseline [--trades 1000000] [--runs 3] [--flink-trades-per-s X]

Without ``--trades-topic`` it pre-fills its own topic first (``benchmarks/workload.py``) and
deletes it afterwards; ``benchmarks/ripples_throughput.py`` runs it on the job's topic.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from rich.console import Console

if __package__ in (None, ""):  # run as a file: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.aggregates import Bar
from benchmarks.aggregates import sample_std as _std
from benchmarks.workload import (
    DEFAULT_TRADES,
    DEFAULT_TRADES_PER_MINUTE,
    CpuMeter,
    add_quiet_wait_option,
    delete_topics,
    prefilled,
    unique_prefix,
    wait_for_quiet,
)
from streamlines.console import make_console
from streamlines.contracts.metrics import METRIC_BAR_1M, METRIC_BAR_1S, METRIC_ROLLING
from streamlines.contracts.time import NS_PER_MILLISECOND, NS_PER_MINUTE, NS_PER_SECOND
from streamlines.settings import Settings

WINDOW_MS = 5 * 60 * 1000


class SymbolState:
    """One symbol's bars and 5-minute window. The window holds (ms, price - anchor, log return)
    and running sums of them; trades of the current millisecond wait in ``pending`` until the
    millisecond is complete, because each one's window includes all of them."""

    __slots__ = (
        "anchor",
        "bar_1m",
        "bar_1s",
        "n_p",
        "n_r",
        "pending",
        "pending_ms",
        "prev_price",
        "s_p",
        "s_p2",
        "s_r",
        "s_r2",
        "symbol",
        "window",
    )

    def __init__(self, symbol: str, first_price: float) -> None:
        self.symbol = symbol
        self.anchor = first_price  # deviations are summed around it: fewer digits lost
        self.prev_price: float | None = None
        self.bar_1s: Bar | None = None
        self.bar_1m: Bar | None = None
        self.window: deque[tuple[int, float, float | None]] = deque()
        self.s_p = self.s_p2 = self.s_r = self.s_r2 = 0.0
        self.n_p = self.n_r = 0
        self.pending: list[int] = []  # t_ns of the current millisecond's trades
        self.pending_ms = -1


Emit = Callable[[str, str, int, dict[str, float | None]], None]


class Baseline:
    def __init__(self, emit: Emit) -> None:
        self.emit = emit  # emit(symbol, metric, t_ns, values): one output record
        self.states: dict[str, SymbolState] = {}

    def trade(self, symbol: str, t_ns: int, price: float, size: float) -> None:
        state = self.states.get(symbol)
        if state is None:
            state = self.states[symbol] = SymbolState(symbol, price)
        emit = self.emit

        # Bars: a trade in a later bucket closes the open bar.
        bucket = t_ns // NS_PER_SECOND
        bar = state.bar_1s
        if bar is not None and bar.bucket == bucket:
            bar.add(price, size)
        else:
            if bar is not None:
                emit(symbol, METRIC_BAR_1S, (bar.bucket + 1) * NS_PER_SECOND, bar.values())
            state.bar_1s = Bar(bucket, price, size)
        bucket //= 60
        bar = state.bar_1m
        if bar is not None and bar.bucket == bucket:
            bar.add(price, size)
        else:
            if bar is not None:
                emit(symbol, METRIC_BAR_1M, (bar.bucket + 1) * NS_PER_MINUTE, bar.values())
            state.bar_1m = Bar(bucket, price, size)

        # Rolling window: finish the previous millisecond, evict, add this trade.
        ms = t_ns // NS_PER_MILLISECOND
        if ms != state.pending_ms:
            self._flush_rolling(state)
            state.pending_ms = ms
            window = state.window
            oldest = ms - WINDOW_MS
            while window and window[0][0] < oldest:
                _, dp, ret = window.popleft()
                state.s_p -= dp
                state.s_p2 -= dp * dp
                state.n_p -= 1
                if ret is not None:
                    state.s_r -= ret
                    state.s_r2 -= ret * ret
                    state.n_r -= 1
        prev = state.prev_price
        ret = math.log(price / prev) if prev else None
        state.prev_price = price
        dp = price - state.anchor
        state.window.append((ms, dp, ret))
        state.s_p += dp
        state.s_p2 += dp * dp
        state.n_p += 1
        if ret is not None:
            state.s_r += ret
            state.s_r2 += ret * ret
            state.n_r += 1
        state.pending.append(t_ns)

    def _flush_rolling(self, state: SymbolState) -> None:
        if not state.pending:
            return
        n_p, n_r = state.n_p, state.n_r
        values = {
            "price_mean": state.anchor + state.s_p / n_p,
            "price_std": _std(state.s_p, state.s_p2, n_p),
            "price_count": float(n_p),
            "ret_mean": state.s_r / n_r if n_r else None,
            "ret_std": _std(state.s_r, state.s_r2, n_r),
            "ret_count": float(n_r),
        }
        for t_ns in state.pending:
            self.emit(state.symbol, METRIC_ROLLING, t_ns, values)
        state.pending.clear()

    def finish(self) -> None:
        """End of input: every open bar and pending rolling record goes out."""
        for state in self.states.values():
            self._flush_rolling(state)
            if state.bar_1s is not None:
                bar = state.bar_1s
                self.emit(
                    state.symbol, METRIC_BAR_1S, (bar.bucket + 1) * NS_PER_SECOND, bar.values()
                )
            if state.bar_1m is not None:
                bar = state.bar_1m
                end = (bar.bucket + 1) * NS_PER_MINUTE
                self.emit(state.symbol, METRIC_BAR_1M, end, bar.values())


@dataclass(frozen=True)
class BaselineResult:
    trades: int
    records: int
    seconds: float
    others: float = 0.0  # cores used meanwhile by processes outside the stack and this run

    @property
    def trades_per_s(self) -> float:
        return self.trades / self.seconds


def run_baseline(settings: Settings, trades_topic: str, output_topic: str) -> BaselineResult:
    """Read ``trades_topic`` up to its end offsets at start, write the records to
    ``output_topic``; timed from the consumer's creation to the producer's last ack."""
    started = time.perf_counter()
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        # kafka-python checks CRC32C in pure Python unless the optional crc32c package is
        # installed; the broker has checked them already.
        check_crcs=False,
        max_poll_records=10_000,
        fetch_max_bytes=64 << 20,
        max_partition_fetch_bytes=16 << 20,
    )
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=50,
        batch_size=1 << 20,
        max_request_size=8 << 20,
    )
    records = 0
    send = producer.send
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    keys: dict[str, bytes] = {}

    def emit(symbol: str, metric: str, t_ns: int, values: dict[str, float | None]) -> None:
        nonlocal records
        key = keys.get(symbol) or keys.setdefault(symbol, symbol.encode())
        record = {"symbol": symbol, "metric": metric, "t_ns": t_ns, "values": values}
        send(output_topic, key=key, value=dumps(record).encode())
        records += 1

    baseline = Baseline(emit)
    trade = baseline.trade
    loads = json.loads
    trades = 0
    try:
        partitions = [
            TopicPartition(trades_topic, p)
            for p in sorted(consumer.partitions_for_topic(trades_topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = {tp: end for tp, end in consumer.end_offsets(partitions).items() if end > 0}
        while ends:
            for tp, batch in consumer.poll(timeout_ms=1000).items():
                end = ends.get(tp)
                if end is None:
                    continue
                for message in batch:
                    if message.offset >= end:
                        break
                    event = loads(message.value)
                    trade(event["symbol"], event["t_ns"], event["price"], event["size"])
                    trades += 1
                if batch[-1].offset + 1 >= end:
                    del ends[tp]
        baseline.finish()
        producer.flush(timeout=300)
        seconds = time.perf_counter() - started
    finally:
        consumer.close()
        producer.close()
    return BaselineResult(trades=trades, records=records, seconds=seconds)


def run_baselines(
    settings: Settings,
    trades_topic: str,
    runs: int,
    console: Console,
    prefix: str | None = None,
    quiet_wait: float = 600.0,
) -> list[BaselineResult]:
    """``runs`` runs, each to a fresh output topic (deleted afterwards)."""
    prefix = prefix or unique_prefix("baseline")
    outputs = [f"{prefix}-baseline-{run}" for run in range(1, runs + 1)]
    results = []
    try:
        for run, output in enumerate(outputs, start=1):
            wait_for_quiet(console, quiet_wait)
            with (
                console.status(f"Python baseline, run {run}/{runs}"),
                CpuMeter(settings) as cpu,
            ):
                result = run_baseline(settings, trades_topic, output)
            result = dataclasses.replace(result, others=cpu.others)
            results.append(result)
            console.print(
                f"python run {run}: {result.trades:,} trades in {result.seconds:.1f} s = "
                f"{result.trades_per_s:,.0f} trades/s ({result.records:,} records out)\n"
                f"  {cpu.summary()}"
            )
    finally:
        delete_topics(settings, outputs)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--trades", type=int, default=DEFAULT_TRADES, help="trades to pre-fill")
    parser.add_argument("--trades-per-minute", type=int, default=DEFAULT_TRADES_PER_MINUTE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--trades-topic", help="use this pre-filled trades topic instead of filling one"
    )
    parser.add_argument(
        "--flink-trades-per-s",
        type=float,
        help="the ripples job's figure (trades/s per slot), to print the Flink/Python ratio",
    )
    add_quiet_wait_option(parser)
    args = parser.parse_args(argv)
    settings = Settings()
    console = make_console()

    if args.trades_topic:
        results = run_baselines(
            settings, args.trades_topic, args.runs, console, quiet_wait=args.quiet_wait
        )
    else:
        with prefilled(settings, args.trades, args.trades_per_minute, console) as workload:
            results = run_baselines(
                settings,
                workload.trades_topic,
                args.runs,
                console,
                workload.prefix,
                args.quiet_wait,
            )
    rates = [r.trades_per_s for r in results]
    median = statistics.median(rates)
    console.print(
        f"Python baseline (one kafka-python consumer, bars + rolling, no spread): median "
        f"{median:,.0f} trades/s over {len(rates)} runs "
        f"({', '.join(f'{r:,.0f}' for r in rates)})"
    )
    if args.flink_trades_per_s:
        console.print(f"Flink/Python: {args.flink_trades_per_s / median:.2f}x")


if __name__ == "__main__":
    main()
