"""The benchmarks' shared workload: Kafka topics pre-filled with trades and matching quotes.

The events are **intraday trades generated from real daily bars** (and, for EUR/USD, real
hourly bars), exactly as the tests make them: ``connectors.replay.synth`` ``generate_trades``
and ``generate_quotes`` on ``streamlines.datasets.load_bars`` data. Each real bar becomes one
minute of event time (minute *i* of the timeline holds bar *i* of every symbol, the data set
starting over when it runs out), with ``--trades-per-minute`` trades per symbol inside the
bar's range and volume, and one quote shortly before each trade. Seeded, so every run with the
same options produces the same events.

Trades and quotes are produced in event-time order, keyed by symbol, in the wire format of
``streamlines.contracts.events`` (``Trade``/``Quote``.to_wire() JSON), to two fresh one-partition
topics named ``<prefix>-trades`` and ``<prefix>-quotes``. Each record's Kafka timestamp is its
event time (``t_ns`` in milliseconds), so that tools which order topics by record timestamp
(Quix Streams' joins, ``benchmarks/peers``) read the two topics in event-time order; the topics
keep such years-old records (no time retention, no segment roll by age).
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from connectors.replay import synth
from streamlines.console import make_console
from streamlines.contracts.events import Quote, Trade
from streamlines.contracts.time import NS_PER_MILLISECOND, NS_PER_MINUTE
from streamlines.datasets import load_bars
from streamlines.settings import Settings
from streamlines.stack.manager import Stack
from streamlines.stack.procfs import process_stats


@dataclass(frozen=True)
class SymbolSource:
    symbol: str
    dataset: str  # a streamlines.datasets name
    tick: float
    integral_volume: bool


# Several symbols with different price levels, volumes and frequencies (real data sets).
SYMBOLS = (
    SymbolSource("GOOG", "GOOG", 0.01, True),
    SymbolSource("SPX", "SP500", 0.01, True),
    SymbolSource("NDX", "NASDAQ", 0.01, True),
    SymbolSource("EUR/USD", "EURUSD", 0.00001, False),
)
DAY_NS = int(pd.Timestamp("2024-03-04 14:30", tz="UTC").value)
SEED = 7
DEFAULT_TRADES = 1_000_000
DEFAULT_TRADES_PER_MINUTE = 600


@dataclass(frozen=True)
class Events:
    """Trades and quotes of all symbols, each in event-time order (numpy columns)."""

    symbols: tuple[str, ...]
    trade_symbol: np.ndarray  # index into symbols
    trade_t: np.ndarray
    trade_price: np.ndarray
    trade_size: np.ndarray
    trade_id: np.ndarray
    quote_symbol: np.ndarray
    quote_t: np.ndarray
    quote_bid: np.ndarray
    quote_bid_size: np.ndarray
    quote_ask: np.ndarray
    quote_ask_size: np.ndarray

    @property
    def trades(self) -> int:
        return len(self.trade_t)

    @property
    def quotes(self) -> int:
        return len(self.quote_t)

    def trade_messages(self) -> Iterator[tuple[bytes, bytes, int]]:
        """(key, value, event time in ms) of every trade, in the schema's wire format."""
        names = [s.encode() for s in self.symbols]
        for sym, t, price, size, trade_id in zip(
            self.trade_symbol.tolist(),
            self.trade_t.tolist(),
            self.trade_price.tolist(),
            self.trade_size.tolist(),
            self.trade_id.tolist(),
            strict=True,
        ):
            trade = Trade(
                symbol=self.symbols[sym], t_ns=t, price=price, size=size, trade_id=trade_id
            )
            yield names[sym], trade.to_wire(), t // NS_PER_MILLISECOND

    def quote_messages(self) -> Iterator[tuple[bytes, bytes, int]]:
        names = [s.encode() for s in self.symbols]
        for sym, t, bid, bid_size, ask, ask_size in zip(
            self.quote_symbol.tolist(),
            self.quote_t.tolist(),
            self.quote_bid.tolist(),
            self.quote_bid_size.tolist(),
            self.quote_ask.tolist(),
            self.quote_ask_size.tolist(),
            strict=True,
        ):
            quote = Quote(
                symbol=self.symbols[sym],
                t_ns=t,
                bid_price=bid,
                bid_size=bid_size,
                ask_price=ask,
                ask_size=ask_size,
            )
            yield names[sym], quote.to_wire(), t // NS_PER_MILLISECOND


def generate_events(
    n_trades: int,
    trades_per_minute: int = DEFAULT_TRADES_PER_MINUTE,
    sources: tuple[SymbolSource, ...] = SYMBOLS,
    seed: int = SEED,
) -> Events:
    """The first ``n_trades`` trades in event time (and the quote generated with each)."""
    datasets = {s.dataset: load_bars(s.dataset) for s in sources}
    parts: list[tuple[int, synth.Trades, synth.Quotes]] = []
    total, minute = 0, 0
    while total < n_trades:
        start = DAY_NS + minute * NS_PER_MINUTE
        for index, source in enumerate(sources):
            bars = datasets[source.dataset]
            row = bars.iloc[minute % len(bars)]
            if source.integral_volume and row.volume < trades_per_minute:
                continue  # too little volume for one share per trade (a holiday bar)
            bar = synth.BarSpec(
                float(row.open), float(row.high), float(row.low), float(row.close),
                float(row.volume), start, start + NS_PER_MINUTE,
            )  # fmt: skip
            rng = synth.bar_rng(seed, source.symbol, minute)
            trades = synth.generate_trades(
                bar,
                trades_per_minute,
                rng,
                tick=source.tick,
                integral_volume=source.integral_volume,
                first_id=minute * trades_per_minute,
            )
            quotes = synth.generate_quotes(
                trades, bar, rng, tick=source.tick, integral_volume=source.integral_volume
            )
            parts.append((index, trades, quotes))
            total += len(trades)
        minute += 1

    def column(name: str, of: int) -> np.ndarray:
        return np.concatenate([getattr(p[of], name) for p in parts])

    trade_symbol = np.concatenate([np.full(len(p[1]), p[0], np.int64) for p in parts])
    trade_t = column("t", 1)
    # Quotes come one per trade, so the same selection keeps each kept trade's quote.
    keep = np.argsort(trade_t, kind="stable")[:n_trades]
    quote_t = column("t", 2)[keep]
    quote_order = np.argsort(quote_t, kind="stable")
    quote_keep = keep[quote_order]
    return Events(
        symbols=tuple(s.symbol for s in sources),
        trade_symbol=trade_symbol[keep],
        trade_t=trade_t[keep],
        trade_price=column("price", 1)[keep],
        trade_size=column("size", 1)[keep],
        trade_id=column("id", 1)[keep],
        quote_symbol=trade_symbol[quote_keep],
        quote_t=quote_t[quote_order],
        quote_bid=column("bid_price", 2)[quote_keep],
        quote_bid_size=column("bid_size", 2)[quote_keep],
        quote_ask=column("ask_price", 2)[quote_keep],
        quote_ask_size=column("ask_size", 2)[quote_keep],
    )


@dataclass(frozen=True)
class Workload:
    prefix: str
    trades_topic: str
    quotes_topic: str
    trades: int
    quotes: int
    symbols: tuple[str, ...]
    produce_seconds: float


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all CPUs since boot, or None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    return values[3] + values[4], sum(values)  # idle + iowait


def cpu_idle(seconds: float) -> float | None:
    """The machine's idle CPU fraction over the next ``seconds``."""
    before = _cpu_times()
    time.sleep(seconds)
    after = _cpu_times()
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def add_quiet_wait_option(parser: argparse.ArgumentParser) -> None:
    """``--quiet-wait SECONDS``: how long to wait for a quiet machine before each measurement."""
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="before each measurement, wait up to this long for the (shared) machine to be "
        "at least 85%% idle; 0 = do not wait",
    )


def wait_for_quiet(
    console: Console, max_wait: float, idle: float = 0.85, window: float = 3.0
) -> float | None:
    """Wait (up to ``max_wait`` s) until the machine is at least ``idle`` idle over ``window``
    seconds, so that a measurement does not share the CPUs with someone else's work (the stack
    is shared). Returns the last idle fraction seen; says so when it had to wait or gave up."""
    deadline = time.monotonic() + max_wait
    measured = cpu_idle(window)
    if measured is None or measured >= idle or max_wait <= 0:
        return measured
    with console.status(
        f"waiting for a quiet machine (CPU {measured:.0%} idle, want {idle:.0%})"
    ) as status:
        while measured is not None and measured < idle and time.monotonic() < deadline:
            measured = cpu_idle(window)
            status.update(f"waiting for a quiet machine (CPU {measured:.0%} idle, want {idle:.0%})")
    if measured is not None and measured < idle:
        console.print(
            f"[yellow]note: the machine is still busy (CPU {measured:.0%} idle) after "
            f"{max_wait:.0f} s; measuring anyway[/yellow]"
        )
    return measured


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, CPU ticks it has used so far) of every process (Linux /proc)."""
    return {
        pid: (int(fields[1]), int(fields[11]) + int(fields[12]))
        for pid, fields in process_stats().items()
    }


def _command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _descendants(roots: set[int], table: dict[int, tuple[int, int]]) -> set[int]:
    found = set(roots) & set(table)
    grew = True
    while grew:
        more = {pid for pid, (ppid, _) in table.items() if ppid in found and pid not in found}
        found |= more
        grew = bool(more)
    return found


@dataclass
class _Snapshot:
    at: float
    busy: int  # ticks all CPUs were busy since boot
    processes: dict[str, dict[int, int]]  # group -> pid -> ticks
    own: float  # seconds: this process and the children it has waited for


class CpuMeter:
    """Where the machine's CPU went during a measurement: each stack service (with its child
    processes), this benchmark (with its children, e.g. the flink client), and everything else,
    i.e. someone else's work on a shared machine; as average cores busy (1.0 = one CPU for the
    whole time). Per process, only the time used between the two snapshots counts, so a process
    that ends in between is under-counted (and lands in "others"). ``commands`` (name ->
    a piece of the command line) names the benchmark's children apart, e.g. ``{"ingest":
    "streamlines.cli ingest"}``; the rest stay "benchmark". Linux only (reads /proc); elsewhere
    it reports nothing."""

    def __init__(self, settings: Settings, commands: dict[str, str] | None = None) -> None:
        stack = Stack(settings, make_console(stderr=True))
        self.services = {
            name: {pid for p in service.processes() if p.is_running() and (pid := p.pid())}
            for name, service in stack.services.items()
        }
        self.commands = commands or {}
        self.cores: dict[str, float] = {}  # average cores busy during the measurement
        self.cpu_seconds: dict[str, float] = {}
        self._start: _Snapshot | None = None

    def _snapshot(self) -> _Snapshot | None:
        times = _cpu_times()
        if times is None:
            return None
        table = _process_table()
        me = os.getpid()
        groups = {**self.services, "children": {me}}
        processes = {
            name: {pid: table[pid][1] for pid in _descendants(roots, table) if pid != me}
            for name, roots in groups.items()
        }
        named: dict[str, dict[int, int]] = {name: {} for name in self.commands}
        for pid, ticks in processes["children"].items():
            command = _command_line(pid)
            for name, piece in self.commands.items():
                if piece in command:
                    named[name][pid] = ticks
                    break
        processes.update(named)
        mine = os.times()
        own = mine.user + mine.system + mine.children_user + mine.children_system
        return _Snapshot(time.monotonic(), times[1] - times[0], processes, own)

    def __enter__(self) -> CpuMeter:
        self._start = self._snapshot()
        return self

    def __exit__(self, *_exc: object) -> None:
        end = self._snapshot()
        start = self._start
        if start is None or end is None:
            return
        hz = os.sysconf("SC_CLK_TCK")

        def used(group: str) -> float:
            before = start.processes[group]
            return sum(t - before.get(pid, 0) for pid, t in end.processes[group].items()) / hz

        seconds = {name: used(name) for name in self.services}
        named = {name: used(name) for name in self.commands}
        # Our own time plus that of children still running (ended ones are in os.times()).
        seconds["benchmark"] = end.own - start.own + used("children") - sum(named.values())
        seconds.update(named)
        busy = (end.busy - start.busy) / hz
        seconds["others"] = max(busy - sum(seconds.values()), 0.0)
        self.cpu_seconds = seconds
        self.cores = {name: value / (end.at - start.at) for name, value in seconds.items()}

    @property
    def others(self) -> float:
        return self.cores.get("others", 0.0)

    def summary(self) -> str:
        shown = {k: v for k, v in self.cores.items() if v >= 0.05 or k == "others"}
        return "CPU (cores): " + ", ".join(f"{k} {v:.2f}" for k, v in shown.items())


def unique_prefix(kind: str) -> str:
    """A name no other run uses, for topics, buckets and consumer groups."""
    return f"bench-{kind}-{uuid.uuid4().hex[:8]}"


def delete_topics(settings: Settings, topics: Iterable[str]) -> None:
    """Delete topics that exist (best effort: a benchmark's clean-up must not hide its result)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        existing = set(admin.list_topics())
        wanted = [t for t in topics if t in existing]
        if wanted:
            admin.delete_topics(wanted)
    except KafkaError as exc:
        print(f"warning: could not delete topics {list(topics)}: {exc}")
    finally:
        admin.close()


def delete_consumer_groups(settings: Settings, groups: Iterable[str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        existing = {g["group_id"] for g in admin.list_groups()}
        wanted = [g for g in groups if g in existing]
        if wanted:
            admin.delete_groups(wanted)
    except KafkaError as exc:
        print(f"warning: could not delete consumer groups {list(groups)}: {exc}")
    finally:
        admin.close()


# Records stamped with event times years back: without these, Kafka would roll a segment per
# batch (segment.ms counts from the first record's timestamp), retention would delete them, and
# a broker with a bound on past timestamps would refuse them.
EVENT_TIME_TOPIC_CONFIG = {
    "retention.ms": "-1",
    "segment.ms": str(2**63 - 1),
    "message.timestamp.before.max.ms": str(2**63 - 1),
}


def create_event_time_topics(settings: Settings, topics: Iterable[str]) -> None:
    """One-partition topics for records with event-time timestamps (EVENT_TIME_TOPIC_CONFIG)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        existing = set(admin.list_topics())
        new = [
            NewTopic(t, num_partitions=1, replication_factor=1,
                     topic_configs=EVENT_TIME_TOPIC_CONFIG)
            for t in topics
            if t not in existing
        ]  # fmt: skip
        if new:
            admin.create_topics(new)
    finally:
        admin.close()


def topic_size(settings: Settings, topic: str) -> int:
    """How many records a topic holds (sum of its partitions' end offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        consumer.close()


def fast_producer(settings: Settings) -> KafkaProducer:
    """A producer tuned for bulk loading: big batches, a little linger, acks from the leader
    (acks=all is the same on this one-broker cluster)."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=50,
        batch_size=1 << 20,
        max_request_size=8 << 20,
    )


class RateColumn(ProgressColumn):
    """Messages per second so far."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:>9,.0f}/s")


def progress(console: Console | None = None) -> Progress:
    return Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _produce(
    producer: KafkaProducer,
    topic: str,
    messages: Iterable[tuple[bytes, bytes, int]],
    bar: Progress,
    task: TaskID,
    every: int = 20_000,
) -> None:
    send = producer.send
    count = 0
    for key, value, timestamp_ms in messages:
        # The topics have one partition.
        send(topic, key=key, value=value, partition=0, timestamp_ms=timestamp_ms)
        count += 1
        if count % every == 0:
            bar.update(task, advance=every)
    producer.flush(timeout=300)
    bar.update(task, completed=count)


def prefill(
    settings: Settings,
    n_trades: int = DEFAULT_TRADES,
    trades_per_minute: int = DEFAULT_TRADES_PER_MINUTE,
    prefix: str | None = None,
    console: Console | None = None,
) -> Workload:
    """Create ``<prefix>-trades`` / ``<prefix>-quotes`` and fill them (rich progress bars)."""
    console = console or make_console()
    prefix = prefix or unique_prefix("ripples")
    trades_topic, quotes_topic = f"{prefix}-trades", f"{prefix}-quotes"
    with console.status(f"generating {n_trades:,} trades from real bars"):
        events = generate_events(n_trades, trades_per_minute)
    console.print(
        f"generated {events.trades:,} trades and {events.quotes:,} quotes of "
        f"{', '.join(events.symbols)} ({trades_per_minute} trades per symbol and minute, "
        f"{(int(events.trade_t[-1]) - DAY_NS) / NS_PER_MINUTE:,.0f} minutes of event time)"
    )
    create_event_time_topics(settings, [trades_topic, quotes_topic])
    started = time.perf_counter()
    producer = fast_producer(settings)
    try:
        with progress(console) as bar:
            trades_task = bar.add_task(f"→ {trades_topic[-14:]}", total=events.trades)
            quotes_task = bar.add_task(f"→ {quotes_topic[-14:]}", total=events.quotes)
            _produce(producer, trades_topic, events.trade_messages(), bar, trades_task)
            _produce(producer, quotes_topic, events.quote_messages(), bar, quotes_task)
    finally:
        producer.close()
    seconds = time.perf_counter() - started
    console.print(
        f"pre-filled {trades_topic} and {quotes_topic} in {seconds:.1f} s "
        f"({(events.trades + events.quotes) / seconds:,.0f} messages/s)"
    )
    return Workload(
        prefix=prefix,
        trades_topic=trades_topic,
        quotes_topic=quotes_topic,
        trades=events.trades,
        quotes=events.quotes,
        symbols=events.symbols,
        produce_seconds=seconds,
    )


@contextmanager
def prefilled(
    settings: Settings,
    n_trades: int = DEFAULT_TRADES,
    trades_per_minute: int = DEFAULT_TRADES_PER_MINUTE,
    console: Console | None = None,
    keep: bool = False,
) -> Iterator[Workload]:
    """``prefill`` and, afterwards, delete the two topics (unless ``keep``)."""
    prefix = unique_prefix("ripples")
    try:
        yield prefill(settings, n_trades, trades_per_minute, prefix=prefix, console=console)
    finally:
        if not keep:
            delete_topics(settings, [f"{prefix}-trades", f"{prefix}-quotes"])
