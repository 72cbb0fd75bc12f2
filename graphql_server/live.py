"""Live records for subscriptions: one Kafka consumer per topic for the whole server, fanned out.

A ``KafkaFeed`` reads a topic of contract records (ripples' analytics records, Narwhal's
predictions, ...) on a background thread: from the end, but at start it reads back the last
``prime_records`` of each partition so the latest value of each key is known. It hands the
records to the event loop (what arrived while the loop was busy as one publish), where a
``LiveHub`` keeps the latest record per key and queues each record for every subscription that
asked for it, in chunks shared by the subscriptions that asked for the same. A record's key is
its symbol and one more part the hub is given (a metric, a model id), which subscriptions may
also filter on. A subscription whose client reads too slowly for its bounded queue is ended
with an error rather than let grow without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from kafka import KafkaConsumer, TopicPartition

from streamlines.connections import kafka_client_config
from streamlines.contracts.events import Event, SchemaError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Event)


class SubscriberTooSlow(Exception):
    """The client did not keep up with the updates it subscribed to."""


PartFilter = frozenset[str] | Callable[[str], bool] | None
MAX_CUT_CHUNKS = 1_000  # the latest chunks cut for max_batch, kept so that all cut them alike
Chunk = tuple[R, ...]  # records of one publish that one filter takes, shared by its subscriptions


@dataclass(eq=False)
class Filter:
    """What some subscriptions ask for, and those subscriptions: a publish's records are
    filtered once per filter, and the same chunk is queued for each of its subscriptions."""

    key: tuple[object, object]
    symbols: frozenset[str] | None  # None: every symbol
    parts: PartFilter  # None: every part (metric, model id, ...); a function: those it accepts
    subscriptions: set[Subscription] = field(default_factory=set)

    def wants(self, symbol: str, part: str) -> bool:
        if self.symbols is not None and symbol not in self.symbols:
            return False
        if self.parts is None:
            return True
        return self.parts(part) if callable(self.parts) else part in self.parts


@dataclass(eq=False)
class Subscription:
    filter: Filter
    chunks: deque[tuple] = field(default_factory=deque)  # what waits for the client
    pending: int = 0  # records in ``chunks``
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False
    ended: bool = False

    @property
    def symbols(self) -> frozenset[str] | None:
        return self.filter.symbols


@dataclass
class HubCounters:
    received: int = 0
    rejected: int = 0
    delivered: int = 0
    dropped_subscribers: int = 0
    by_symbol: dict[str, int] = field(default_factory=dict)


class LiveHub(Generic[R]):
    """Fan-out of records to subscriptions, with the latest record per (symbol, part(record)).

    Subscriptions that ask for the same symbols and parts share a ``Filter``: a publish's
    records are filtered once per filter (visiting only the filters of each record's symbol),
    and the resulting chunk, one tuple, is queued for each of its subscriptions. At most
    ``queue_size`` records wait per subscription."""

    def __init__(self, part: Callable[[R], str], queue_size: int = 10_000) -> None:
        self.part = part
        self.queue_size = queue_size
        self.latest: dict[tuple[str, str], R] = {}
        self.subscriptions: set[Subscription] = set()
        self._filters: dict[tuple[object, object], Filter] = {}
        self._by_symbol: dict[str | None, list[Filter]] = {}  # None: of every symbol
        self._cut: dict[tuple[int, int], tuple[tuple, list[tuple]]] = {}  # chunks cut, pieces
        self.counters = HubCounters()

    def publish(self, records: Iterable[R], *, live: bool = True) -> None:
        """Take records in (on the event loop); ``live=False`` only updates the latest values."""
        chunks: dict[Filter, list[R]] = {}
        for record in records:
            self.counters.received += 1
            key = (record.symbol, self.part(record))
            current = self.latest.get(key)
            if current is None or record.t_ns >= current.t_ns:
                self.latest[key] = record
            if live:
                for symbol in (key[0], None):
                    for found in self._by_symbol.get(symbol, ()):
                        if found.wants(*key):
                            chunks.setdefault(found, []).append(record)
        for found, chunk in chunks.items():
            self._deliver(found, tuple(chunk))

    def _deliver(self, found: Filter, chunk: tuple) -> None:
        for sub in found.subscriptions:
            if sub.overflowed:
                continue
            if sub.pending + len(chunk) > self.queue_size:
                room = self.queue_size - sub.pending  # what fits is still sent, then the error
                if room > 0:
                    sub.chunks.append(chunk[:room])
                    sub.pending += room
                    self.counters.delivered += room
                sub.overflowed = True
                sub.wake.set()
                self.counters.dropped_subscribers += 1
                symbols = "every symbol" if sub.symbols is None else sorted(sub.symbols)
                log.warning("ending a subscription to %s: client too slow", symbols)
                continue
            sub.chunks.append(chunk)
            sub.pending += len(chunk)
            sub.wake.set()
            self.counters.delivered += len(chunk)

    def close(self) -> None:
        """End every subscription (server shutdown)."""
        for sub in self.subscriptions:
            sub.ended = True
            sub.wake.set()

    async def subscribe(
        self,
        symbols: Iterable[str] | None,
        parts: Iterable[str] | Callable[[str], bool] | None = None,
    ) -> AsyncGenerator[R, None]:
        """The latest record of each wanted (symbol, part) first (oldest first), then each new
        one as it arrives. Raises SubscriberTooSlow when the client falls too far behind."""
        chunks = self.subscribe_chunks(symbols, parts, max_batch=self.queue_size)
        try:
            async for batch in chunks:
                for chunk in batch:
                    for record in chunk:
                        yield record
        finally:
            await chunks.aclose()  # unsubscribe now, not when garbage-collected

    async def subscribe_batches(
        self,
        symbols: Iterable[str] | None,
        parts: Iterable[str] | Callable[[str], bool] | None = None,
        max_batch: int = 1000,
    ) -> AsyncGenerator[list[R], None]:
        """As ``subscribe``, in lists: the latest values as the first list, then whatever has
        arrived since the last list (at most ``max_batch``), without waiting for more.
        ``symbols`` None: every symbol; ``parts`` a function: the parts it accepts."""
        chunks = self.subscribe_chunks(symbols, parts, max_batch)
        try:
            async for batch in chunks:
                yield [record for chunk in batch for record in chunk]
        finally:
            await chunks.aclose()

    async def subscribe_chunks(
        self,
        symbols: Iterable[str] | None,
        parts: Iterable[str] | Callable[[str], bool] | None = None,
        max_batch: int = 1000,
    ) -> AsyncGenerator[list[Chunk[R]], None]:
        """As ``subscribe_batches``, each list as the chunks it is made of: the same tuples for
        every subscription of the same symbols and parts that kept up (a chunk longer than
        ``max_batch`` is cut)."""
        sub = self._add(
            None if symbols is None else frozenset(symbols),
            parts if parts is None or callable(parts) else frozenset(parts),
        )
        try:
            # Snapshot and registration happen without an await in between: nothing is missed
            # or sent twice between the latest values and the live ones.
            snapshot = sorted(
                (r for key, r in self.latest.items() if sub.filter.wants(*key)),
                key=lambda r: (r.t_ns, self.part(r)),
            )
            for start in range(0, len(snapshot), max_batch):
                yield [tuple(snapshot[start : start + max_batch])]
            while True:
                while not sub.chunks:
                    if sub.overflowed:
                        raise SubscriberTooSlow(
                            f"more than {self.queue_size} updates were waiting for this client: "
                            "subscribe to fewer symbols or metrics, use the batched "
                            "subscription, or read faster"
                        )
                    if sub.ended:
                        return
                    sub.wake.clear()
                    await sub.wake.wait()
                yield self._take(sub, max_batch)
        finally:
            self._discard(sub)

    def _take(self, sub: Subscription, max_batch: int) -> list[tuple]:
        """Whole chunks up to ``max_batch`` records (a longer chunk is cut in pieces of
        ``max_batch``, the same pieces for every subscription that cuts it so)."""
        first = sub.chunks.popleft()
        if len(first) > max_batch:
            first, *rest = self._pieces(first, max_batch)
            sub.chunks.extendleft(reversed(rest))
        batch, size = [first], len(first)
        while sub.chunks and size + len(sub.chunks[0]) <= max_batch:
            chunk = sub.chunks.popleft()
            batch.append(chunk)
            size += len(chunk)
        sub.pending -= size
        return batch

    def _pieces(self, chunk: tuple, size: int) -> list[tuple]:
        key = (id(chunk), size)
        found = self._cut.get(key)
        if found is None or found[0] is not chunk:
            if len(self._cut) >= MAX_CUT_CHUNKS:
                del self._cut[next(iter(self._cut))]
            pieces = [chunk[i : i + size] for i in range(0, len(chunk), size)]
            found = self._cut[key] = (chunk, pieces)
        return found[1]

    def _add(self, symbols: frozenset[str] | None, parts: PartFilter) -> Subscription:
        key = (symbols, parts if not callable(parts) else id(parts))
        found = self._filters.get(key)
        if found is None:
            found = self._filters[key] = Filter(key, symbols, parts)
            for symbol in symbols if symbols is not None else (None,):
                self._by_symbol.setdefault(symbol, []).append(found)
        sub = Subscription(found)
        found.subscriptions.add(sub)
        self.subscriptions.add(sub)
        return sub

    def _discard(self, sub: Subscription) -> None:
        self.subscriptions.discard(sub)
        found = sub.filter
        found.subscriptions.discard(sub)
        if found.subscriptions:
            return
        del self._filters[found.key]
        for symbol in found.symbols if found.symbols is not None else (None,):
            filters = [f for f in self._by_symbol.get(symbol, ()) if f is not found]
            if filters:
                self._by_symbol[symbol] = filters
            else:
                self._by_symbol.pop(symbol, None)


class KafkaFeed(Generic[R]):
    """Reads a topic of ``record_type`` records into a LiveHub from a background thread;
    ``expand``, when given, turns each record into the records the hub keeps."""

    def __init__(
        self,
        hub: LiveHub[R],
        kafka: Settings | str,
        topic: str,
        prime_records: int,
        record_type: type[R],
        expand: Callable[[R], Sequence[R]] | None = None,
    ) -> None:
        self.hub = hub
        self.kafka = kafka
        self.topic = topic
        self.prime_records = prime_records
        self.record_type = record_type
        self.expand = expand
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._waiting: list[tuple[list[R], bool]] = []  # (records, live) not yet published
        self._flush_scheduled = False

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=f"feed-{self.topic}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume()
            except Exception:
                log.warning("reading %s failed; retrying in 2 s", self.topic, exc_info=True)
                self._stop.wait(2)

    def _consume(self) -> None:
        consumer = KafkaConsumer(
            **kafka_client_config(self.kafka),
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=50,
            max_poll_records=5_000,
            # The jobs write in transactions: what an aborted one left repeats a restart's.
            isolation_level="read_committed",
        )
        try:
            partitions = self._wait_for_partitions(consumer)
            if partitions is None:
                return
            assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            ends = consumer.end_offsets(assigned)
            begins = consumer.beginning_offsets(assigned)
            for tp in assigned:
                consumer.seek(tp, max(begins[tp], ends[tp] - self.prime_records))
            pending = {tp for tp in assigned if ends[tp] > begins[tp]}
            log.info("reading %s (%d partitions) for subscriptions", self.topic, len(assigned))
            self.connected.set()
            while not self._stop.is_set():
                batches = consumer.poll(timeout_ms=200)
                for tp, batch in batches.items():
                    priming = tp in pending
                    self._hand_over(batch, live=not priming)
                    if priming and consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
                for tp in list(pending):  # a partition whose tail was all compacted away
                    if consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
        finally:
            consumer.close()

    def _wait_for_partitions(self, consumer) -> set[int] | None:  # noqa: ANN001
        said = False
        while not self._stop.is_set():
            partitions = consumer.partitions_for_topic(self.topic)
            if partitions:
                return partitions
            if not said:
                log.info("waiting for topic %s to exist", self.topic)
                said = True
            self._stop.wait(1)
        return None

    def _hand_over(self, batch: list, *, live: bool) -> None:
        records: list[R] = []
        for raw in batch:
            try:
                record = self.record_type.from_wire(raw.value)
                records.extend(self.expand(record) if self.expand else (record,))
            except SchemaError as exc:
                self.hub.counters.rejected += 1
                log.debug("skipping a record of %s: %s", self.topic, exc.reason)
        if not records or self._loop is None:
            return
        # What arrives while the event loop is busy is published at once, as one publish (one
        # chunk per filter), rather than a publish per poll each subscriber would take apart.
        with self._lock:
            self._waiting.append((records, live))
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
            self._flush_scheduled = False
        records: list[R] = []
        live = True
        for part, part_live in waiting:
            if records and part_live != live:
                self.hub.publish(records, live=live)
                records = []
            records.extend(part)
            live = part_live
        if records:
            self.hub.publish(records, live=live)


async def settled(
    batches: AsyncGenerator[list[R], None], settle_s: float
) -> AsyncGenerator[list[R], None]:
    """``batches`` merged while the next arrives within ``settle_s`` of the last: a burst of
    records (a round of the volatility ranking, written together) comes as one list."""
    pending: asyncio.Future[list[R]] | None = None
    try:
        while True:
            task = pending or asyncio.ensure_future(anext(batches))
            pending = None
            try:
                merged = list(await task)
            except StopAsyncIteration:
                return
            while True:
                task = asyncio.ensure_future(anext(batches))
                done, _ = await asyncio.wait({task}, timeout=settle_s)
                if not done:
                    pending = task
                    break
                try:
                    merged.extend(task.result())
                except StopAsyncIteration:
                    yield merged
                    return
            yield merged
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        await batches.aclose()
