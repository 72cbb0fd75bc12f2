"""Live records for subscriptions: one Kafka consumer per topic for the whole server, fanned out.

A ``KafkaFeed`` reads a topic of contract records (ripples' analytics records, Narwhal's
predictions, ...) on a background thread: from the end, but at start it reads back the last
``prime_records`` of each partition so the latest value of each key is known. It hands the
records to the event loop, where a ``LiveHub`` keeps the latest record per key and puts each
record on the queue of every subscription that asked for it. A record's key is its symbol and
one more part the hub is given (a metric, a model id), which subscriptions may also filter on.
A subscription whose client reads too slowly for its bounded queue is ended with an error rather
than let grow without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Generic, TypeVar

from kafka import KafkaConsumer, TopicPartition

from streamlines.connections import kafka_client_config
from streamlines.contracts.events import Event, SchemaError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Event)

_END = object()  # queue sentinel: the hub stopped


class SubscriberTooSlow(Exception):
    """The client did not keep up with the updates it subscribed to."""


PartFilter = frozenset[str] | Callable[[str], bool] | None


@dataclass(eq=False)
class Subscription:
    symbols: frozenset[str] | None  # None: every symbol
    parts: PartFilter  # None: every part (metric, model id, ...); a function: those it accepts
    queue: asyncio.Queue[object]
    overflowed: bool = False

    def wants(self, symbol: str, part: str) -> bool:
        if self.symbols is not None and symbol not in self.symbols:
            return False
        if self.parts is None:
            return True
        return self.parts(part) if callable(self.parts) else part in self.parts


@dataclass
class HubCounters:
    received: int = 0
    rejected: int = 0
    delivered: int = 0
    dropped_subscribers: int = 0
    by_symbol: dict[str, int] = field(default_factory=dict)


class LiveHub(Generic[R]):
    """Fan-out of records to subscriptions, with the latest record per (symbol, part(record))."""

    def __init__(self, part: Callable[[R], str], queue_size: int = 10_000) -> None:
        self.part = part
        self.queue_size = queue_size
        self.latest: dict[tuple[str, str], R] = {}
        self.subscriptions: set[Subscription] = set()
        self.counters = HubCounters()

    def publish(self, records: Iterable[R], *, live: bool = True) -> None:
        """Take records in (on the event loop); ``live=False`` only updates the latest values."""
        for record in records:
            self.counters.received += 1
            key = (record.symbol, self.part(record))
            current = self.latest.get(key)
            if current is None or record.t_ns >= current.t_ns:
                self.latest[key] = record
            if live:
                self._deliver(record, key)

    def _deliver(self, record: R, key: tuple[str, str]) -> None:
        for sub in list(self.subscriptions):
            if sub.overflowed or not sub.wants(*key):
                continue
            try:
                sub.queue.put_nowait(record)
                self.counters.delivered += 1
            except asyncio.QueueFull:
                sub.overflowed = True
                self.counters.dropped_subscribers += 1
                symbols = "every symbol" if sub.symbols is None else sorted(sub.symbols)
                log.warning("ending a subscription to %s: client too slow", symbols)

    def close(self) -> None:
        """End every subscription (server shutdown)."""
        for sub in self.subscriptions:
            try:
                sub.queue.put_nowait(_END)
            except asyncio.QueueFull:
                sub.overflowed = True

    async def subscribe(
        self,
        symbols: Iterable[str] | None,
        parts: Iterable[str] | Callable[[str], bool] | None = None,
    ) -> AsyncGenerator[R, None]:
        """The latest record of each wanted (symbol, part) first (oldest first), then each new
        one as it arrives. Raises SubscriberTooSlow when the client falls too far behind."""
        batches = self.subscribe_batches(symbols, parts, max_batch=1)
        try:
            async for batch in batches:
                for record in batch:
                    yield record
        finally:
            await batches.aclose()  # unsubscribe now, not when garbage-collected

    async def subscribe_batches(
        self,
        symbols: Iterable[str] | None,
        parts: Iterable[str] | Callable[[str], bool] | None = None,
        max_batch: int = 1000,
    ) -> AsyncGenerator[list[R], None]:
        """As ``subscribe``, in lists: the latest values as the first list, then whatever has
        arrived since the last list (at most ``max_batch``), without waiting for more.
        ``symbols`` None: every symbol; ``parts`` a function: the parts it accepts."""
        sub = Subscription(
            None if symbols is None else frozenset(symbols),
            parts if parts is None or callable(parts) else frozenset(parts),
            asyncio.Queue(self.queue_size),
        )
        # Snapshot and registration happen without an await in between: nothing is missed
        # or sent twice between the latest values and the live ones.
        snapshot = sorted(
            (r for key, r in self.latest.items() if sub.wants(*key)),
            key=lambda r: (r.t_ns, self.part(r)),
        )
        self.subscriptions.add(sub)
        try:
            for start in range(0, len(snapshot), max_batch):
                yield snapshot[start : start + max_batch]
            while True:
                if sub.overflowed and sub.queue.empty():
                    raise SubscriberTooSlow(
                        f"more than {self.queue_size} updates were waiting for this client: "
                        "subscribe to fewer symbols or metrics, use the batched subscription, "
                        "or read faster"
                    )
                batch = [await sub.queue.get()]
                while len(batch) < max_batch and not sub.queue.empty():
                    batch.append(sub.queue.get_nowait())
                ended = _END in batch
                records = [r for r in batch if r is not _END]
                if records:
                    yield records  # type: ignore[misc]
                if ended:
                    return
        finally:
            self.subscriptions.discard(sub)


class KafkaFeed(Generic[R]):
    """Reads a topic of ``record_type`` records into a LiveHub from a background thread."""

    def __init__(
        self,
        hub: LiveHub[R],
        kafka: Settings | str,
        topic: str,
        prime_records: int,
        record_type: type[R],
    ) -> None:
        self.hub = hub
        self.kafka = kafka
        self.topic = topic
        self.prime_records = prime_records
        self.record_type = record_type
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

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
                records.append(self.record_type.from_wire(raw.value))
            except SchemaError as exc:
                self.hub.counters.rejected += 1
                log.debug("skipping a record of %s: %s", self.topic, exc.reason)
        if records and self._loop is not None:
            self._loop.call_soon_threadsafe(partial(self.hub.publish, records, live=live))


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
