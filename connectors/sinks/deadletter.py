"""The dead-letter record of the sinks (``streamlines.contracts.deadletter``), for raw messages
as received from Alpaca (msgpack values, bytes), and what a sink offers for it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import msgpack

from streamlines.contracts.deadletter import dead_letter_record as contract_record
from streamlines.contracts.events import Event
from streamlines.contracts.time import rfc3339_ns


def _jsonable(value: Any) -> Any:
    if isinstance(value, msgpack.Timestamp):
        return rfc3339_ns(value.to_unix_nano())
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


def dead_letter_record(
    reason: str, raw: Any, source: str, rejected_at: datetime | None = None
) -> bytes:
    """The contract's dead-letter record, with msgpack timestamps, bytes and sets rendered."""
    return contract_record(reason, raw, source, rejected_at, default=_jsonable)


class EventSink(Protocol):
    """What ingest writes to: Kafka topics or Kinesis streams, by name."""

    def send(self, topic: str, event: Event) -> None: ...

    def dead_letter(self, topic: str, reason: str, raw: Any, source: str) -> None: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...
