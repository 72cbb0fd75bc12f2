"""The dead-letter record: why a message was rejected, the message as received, where it came
from and when it was rejected (UTC). One JSON object, the same for every sink."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

import msgpack

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
    record = {
        "reason": reason,
        "raw": raw,
        "source": source,
        "rejected_at": (rejected_at or datetime.now(UTC)).isoformat(),
    }
    return json.dumps(record, default=_jsonable).encode()


class EventSink(Protocol):
    """What ingest writes to: Kafka topics or Kinesis streams, by name."""

    def send(self, topic: str, event: Event) -> None: ...

    def dead_letter(self, topic: str, reason: str, raw: Any, source: str) -> None: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...
