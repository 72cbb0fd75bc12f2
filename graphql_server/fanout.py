"""Each live update executed once per selection and encoded once, then sent to every subscriber
of that selection.

Strawberry runs a subscription as graphql-core does: the resolver yields an object per update
and the subscription's selection set is executed on it, for every subscriber, and the result
is JSON-encoded per subscriber. With a thousand subscribers that is a thousand executions of
the same selection on the same record. Here the resolver yields ``shared(record, build)``
instead of ``build(record)``; the executor (``FanoutExecutor``, the schema's) looks the result
up in the server's ``SharedResults`` under (the selection, the record), and executes only
when no other subscriber has; the result's ``data`` carries its JSON (``EncodedData``), which
the view puts into the protocol's message as it is (``encode_message``). A batched subscription
yields ``shared_batch(chunks, build)``, its batch as the hub's chunks (tuples every
subscription of the same filter gets): its result is joined from those of its chunks, each
executed once per selection (the chunks no one has executed yet together, as one batch, then
kept chunk by chunk).

Everything else stays per subscriber and unchanged: Strawberry's protocol handling
(graphql-transport-ws and graphql-ws), the checks of the resolver (keys, arguments), each
subscription's own queue on the hub (its filter, its snapshot, SubscriberTooSlow) and what
the resolver decides to yield (the models' visibility per key). A selection is the root
field (name, alias, directives) with its selection set, the fragments, the values of the
variables those use, and ``extra``: whatever else of the subscription's arguments the yielded
object depends on (the records' filters are not part of it: they decide which records come, not
what a record becomes). Objects whose fields read the request's context must not be shared.

A result with errors is not shared (each subscriber executes, as without this), nor one whose
execution is asynchronous. Without a ``SharedResults`` in the server's context
(STREAMLINES_GRAPHQL_SHARED_EXECUTION off, in-process tests) each subscriber executes.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from graphql import ExecutionResult, FieldNode, Node, VariableNode, print_ast
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_server.context import Context

R = TypeVar("R")
T = TypeVar("T")

# Results kept, counted in records (a chunk's in its records): a subscriber this many records
# behind the first one of its selection executes the selection itself (the same result, more
# work); the memory stays bounded.
MAX_ENTRIES = 10_000


class EncodedData(dict[str, Any]):
    """A result's ``data``, with its compact JSON (``json``) encoded once for all subscribers."""

    __slots__ = ("json",)

    def __init__(self, data: dict[str, Any], encoded: str | None = None) -> None:
        super().__init__(data)
        self.json = encoded if encoded is not None else _dumps(data)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def encode_message(message: object) -> str:
    """A websocket message (or HTTP response) as JSON; a ``next``/``data`` message whose data
    was encoded already is put together around that JSON."""
    if type(message) is dict and len(message) == 3:
        payload = message.get("payload")
        if type(payload) is dict and len(payload) == 1:
            data = payload.get("data")
            if isinstance(data, EncodedData):
                return (
                    f'{{"id":{_dumps(message["id"])},"type":{_dumps(message["type"])},'
                    f'"payload":{{"data":{data.json}}}}}'
                )
    return _dumps(message)


@dataclass(frozen=True, slots=True)
class Shared:
    """What a subscription yields for ``build(record)``, to be executed once per selection."""

    record: object
    build: Callable[[Any], object]
    extra: Hashable = ()


@dataclass(frozen=True, slots=True)
class SharedBatch:
    """What a batched subscription yields for ``build(records)``, its records as the hub's
    chunks (``LiveHub.subscribe_chunks``). The type's lists must hold one item per record:
    the result of a batch is then that of its chunks, each executed once per selection, with
    the lists joined."""

    chunks: Sequence[Sequence[object]]
    build: Callable[[Sequence[Any]], object]
    extra: Hashable = ()


def shared(record: R, build: Callable[[R], T], extra: Hashable = ()) -> T:
    """``build(record)`` for the subscriber: executed and encoded once per selection (the
    executor knows the stand-in; the yield's type stays the GraphQL type)."""
    return cast("T", Shared(record, build, extra))


def shared_batch(
    chunks: Sequence[Sequence[R]], build: Callable[[Sequence[R]], T], extra: Hashable = ()
) -> T:
    """As ``shared``, for ``build(records of chunks)`` of a batched subscription."""
    return cast("T", SharedBatch(chunks, build, extra))


@dataclass
class FanoutCounters:
    executed: int = 0  # a selection executed on a record
    reused: int = 0  # a result another subscriber's execution had made
    unshared: int = 0  # executed for one subscriber only (errors, asynchronous fields, a batch
    # whose type is not one item per record)


@dataclass(slots=True)
class _Entry:
    data: dict[str, Any]
    # A batch's: per list (of the root fields' objects, in order) the JSON of its items,
    # comma-joined; None when the result is not a batch or a list has not one item per record.
    items: tuple[str, ...] | None = None
    encoded: str | None = None

    def data_json(self) -> str:
        if self.encoded is None:
            self.encoded = _dumps(self.data) if self.items is None else _assembled(self)
        return self.encoded


def _split(data: dict[str, Any], sizes: Sequence[int]) -> list[_Entry] | None:
    """A batch's result as the entries of its chunks (``sizes`` records each, in order): each
    list of the root fields' objects sliced, the other values as they are; None when a list
    has not one item per record."""
    total = sum(sizes)
    for value in data.values():
        if not isinstance(value, dict):
            return None
        if any(isinstance(item, list) and len(item) != total for item in value.values()):
            return None
    entries: list[_Entry] = []
    start = 0
    for size in sizes:
        end = start + size
        part = {
            name: {
                f: item[start:end] if isinstance(item, list) else item for f, item in value.items()
            }
            for name, value in data.items()
        }
        items = tuple(
            ",".join([_dumps(i) for i in item])
            for value in part.values()
            for item in value.values()
            if isinstance(item, list)
        )
        entries.append(_Entry(part, items))
        start = end
    return entries


def _joined(entries: list[_Entry]) -> _Entry | None:
    """The entry of a batch made of these batches' (in order): their lists joined, the other
    values the first's; None when one is not a batch's."""
    if len(entries) == 1:
        return entries[0]
    if any(e.items is None for e in entries):
        return None
    first = entries[0]
    data: dict[str, Any] = {}
    for name, value in first.data.items():
        joined: dict[str, Any] = {}
        for field, item in value.items():
            if isinstance(item, list):
                items: list[Any] = []
                for e in entries:
                    items.extend(e.data[name][field])
                joined[field] = items
            else:
                joined[field] = item
        data[name] = joined
    lists = tuple(
        ",".join([p for p in parts if p])
        for parts in zip(*(e.items for e in entries if e.items is not None), strict=True)
    )
    return _Entry(data, lists)


def _assembled(entry: _Entry) -> str:
    """The JSON of a batch's data, its lists from their items' JSON."""
    assert entry.items is not None
    parts: list[str] = []
    index = 0
    for name, value in entry.data.items():
        fields: list[str] = []
        for field, item in value.items():
            if isinstance(item, list):
                fields.append(f"{_dumps(field)}:[{entry.items[index]}]")
                index += 1
            else:
                fields.append(f"{_dumps(field)}:{_dumps(item)}")
        parts.append(f"{_dumps(name)}:{{{','.join(fields)}}}")
    return "{" + ",".join(parts) + "}"


class SharedResults:
    """The results of the latest records and chunks per selection (of at most ``max_entries``
    records in all, the oldest forgotten first), and a number for each selection. Used from the
    event loop only."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.counters = FanoutCounters()
        # (selection, id(of)) -> (of, its entry, records in it): ``of`` kept so that its id is
        # not reused while the entry lives
        self._entries: dict[tuple[int, int], tuple[object, _Entry, int]] = {}
        self._records = 0  # in all the entries: what max_entries bounds
        self._selections: dict[Hashable, int] = {}
        self._numbered = 0

    def __len__(self) -> int:
        return len(self._entries)

    def selection(self, key: Hashable) -> int:
        """The number of the selection ``key`` (numbers are never reused; the table is
        cleared when it holds ``max_entries``: a selection may then get a second number)."""
        found = self._selections.get(key)
        if found is None:
            if len(self._selections) >= self.max_entries:
                self._selections.clear()
            self._numbered += 1
            found = self._selections[key] = self._numbered
        return found

    def get(self, selection: int, of: object) -> _Entry | None:
        """The result of ``of`` (a record, a chunk) in ``selection``, when kept."""
        found = self._entries.get((selection, id(of)))
        if found is None or found[0] is not of:
            return None
        self.counters.reused += 1
        return found[1]

    def keep(self, selection: int, of: object, entry: _Entry, records: int = 1) -> _Entry:
        entries = self._entries
        while entries and self._records + records > self.max_entries:
            self._records -= entries.pop(next(iter(entries)))[2]
        old = entries.get((selection, id(of)))
        if old is not None:
            self._records -= old[2]
        entries[(selection, id(of))] = (of, entry, records)
        self._records += records
        return entry

    def put(self, selection: int, record: object, data: dict[str, Any]) -> _Entry:
        """Keep the result of executing ``selection`` on ``record``."""
        self.counters.executed += 1
        return self.keep(selection, record, _Entry(data))


class FanoutExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, which executes a ``Shared``/``SharedBatch`` update once per
    selection through the server's ``SharedResults``."""

    _shared: SharedResults | None = None
    _selection = 0  # per event: the number of its selection
    _key: Hashable | None = None  # per subscription: its selection_key
    _numbers: dict[Hashable, int] | None = None  # per subscription: (kind, extra) -> number

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = cast("FanoutExecutor", super().build_per_event_executor(payload))
        if isinstance(payload, Shared | SharedBatch):
            shared = self._results()
            if shared is not None:
                if self._numbers is None:
                    self._key, self._numbers = selection_key(self), {}
                kind = (type(payload), payload.extra)
                number = self._numbers.get(kind)
                if number is None:
                    number = self._numbers[kind] = shared.selection((self._key, *kind))
                executor._shared, executor._selection = shared, number
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        if isinstance(payload, Shared):
            return self._execute_shared(payload)
        if isinstance(payload, SharedBatch):
            return self._execute_batch(payload)
        return super().execute_operation(serially)

    def _results(self) -> SharedResults | None:
        app = self.context_value.get("app") if isinstance(self.context_value, dict) else None
        return app.services.get(SharedResults) if isinstance(app, Context) else None

    def _execute(self, root: object) -> Any:
        """``root`` executed as graphql-core would, on an executor of its own (own errors)."""
        return StrawberryGraphQLCoreExecutionContext.build_per_event_executor(
            self, root
        ).execute_operation(False)

    def _execute_one(
        self, shared: SharedResults, record: object, build: Callable[[Any], object]
    ) -> _Entry | Any:
        """The record's entry (executed now when no one had), or the result of executing it
        when that cannot be shared (with errors, asynchronous, not an object)."""
        entry = shared.get(self._selection, record)
        if entry is not None:
            return entry
        result = self._execute(build(record))
        if self.is_awaitable(result) or result.errors or not isinstance(result.data, dict):
            shared.counters.unshared += 1
            return result
        return shared.put(self._selection, record, result.data)

    def _execute_shared(self, payload: Shared) -> Any:
        shared = self._shared
        if shared is None:
            return self._execute(payload.build(payload.record))
        found = self._execute_one(shared, payload.record, payload.build)
        if isinstance(found, _Entry):
            return ExecutionResult(EncodedData(found.data, found.data_json()))
        return found

    def _execute_batch(self, payload: SharedBatch) -> Any:
        shared = self._shared
        if shared is not None and payload.chunks:
            entries = self._chunk_entries(shared, payload.chunks, payload.build)
            joined = None if entries is None else _joined(entries)
            if joined is not None:
                return ExecutionResult(EncodedData(joined.data, joined.data_json()))
            shared.counters.unshared += 1
        records = [record for chunk in payload.chunks for record in chunk]
        return self._execute(payload.build(records))

    def _chunk_entries(
        self,
        shared: SharedResults,
        chunks: Sequence[Sequence[object]],
        build: Callable[[Any], object],
    ) -> list[_Entry] | None:
        """The entries of the chunks: those another subscriber's execution kept, and the others
        executed together as one batch (graphql-core's cost per record is a fifth of a
        one-record batch's at a hundred records) and kept per chunk; None when the result
        cannot be shared (the caller executes the subscriber's batch)."""
        entries = [shared.get(self._selection, chunk) for chunk in chunks]
        missing = [chunk for chunk, entry in zip(chunks, entries, strict=True) if entry is None]
        if not missing:
            return cast("list[_Entry]", entries)
        result = self._execute(build([record for chunk in missing for record in chunk]))
        if self.is_awaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            return None
        if result.errors or not isinstance(result.data, dict):
            return None
        made = _split(result.data, [len(chunk) for chunk in missing])
        if made is None:
            return None
        fresh = iter(zip(missing, made, strict=True))
        for i, entry in enumerate(entries):
            if entry is None:
                chunk, new = next(fresh)
                entries[i] = shared.keep(self._selection, chunk, new, len(chunk))
                shared.counters.executed += len(chunk)
        return cast("list[_Entry]", entries)


def selection_key(executor: StrawberryGraphQLCoreExecutionContext) -> Hashable:
    """What a subscription's result depends on besides the yielded object: its root field
    without the field's arguments (they choose the records), the fragments, and the values
    of the variables these use."""
    roots: list[Node] = []
    parts: list[str] = []
    for selection in executor.operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            alias = selection.alias.value if selection.alias else ""
            parts.append(f"{alias}:{selection.name.value}")
            parts.extend(print_ast(d) for d in selection.directives or ())
            if selection.selection_set is not None:
                parts.append(print_ast(selection.selection_set))
                roots.append(selection.selection_set)
            roots.extend(selection.directives or ())
        else:  # a fragment at the root: all of the operation, as it is
            parts.append(print_ast(executor.operation))
            roots.append(executor.operation)
    fragments = sorted(print_ast(f) for f in executor.fragment_definitions.values())
    roots.extend(executor.fragment_definitions.values())
    used = sorted({name for root in roots for name in _variables(root)})
    values = executor.variable_values.coerced
    variables = tuple((name, repr(values.get(name))) for name in used)
    return (tuple(parts), tuple(fragments), variables)


def _variables(node: Node) -> Iterator[str]:
    if isinstance(node, VariableNode):
        yield node.name.value
        return
    for key in node.keys:
        value = getattr(node, key, None)
        children = value if isinstance(value, tuple | list) else (value,)
        for child in children:
            if isinstance(child, Node):
                yield from _variables(child)
