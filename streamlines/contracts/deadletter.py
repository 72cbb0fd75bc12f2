"""The dead-letter record: why a message was rejected, the message as received, where it came
from and when it was rejected (UTC). One JSON object, the same for every sink and job, on the
topic ``dead_letter_topic(topic)`` of the topic the message was meant for."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def dead_letter_record(
    reason: str,
    raw: Any,
    source: str,
    rejected_at: datetime | None = None,
    default: Callable[[Any], Any] | None = None,
) -> bytes:
    """The record as JSON bytes; ``default`` renders what JSON cannot (``json.dumps``'s)."""
    record = {
        "reason": reason,
        "raw": raw,
        "source": source,
        "rejected_at": (rejected_at or datetime.now(UTC)).isoformat(),
    }
    return json.dumps(record, default=default).encode()
