"""``deleteBars``: remove bad bars of one symbol from the market bucket (InfluxDB's delete API),
record who deleted what and why, and start the recompute of the indicators that depended on
them (``graphql_server.corrections.recompute``).

The audit record is a point of measurement ``bar_deletions`` in the market bucket (tags
``symbol``, ``timeframe``; fields ``who``, ``reason``, ``start_ns``, ``end_ns``, ``deleted``,
``recompute_job``; time = when the bars were deleted), written before the bars are deleted, so
no deletion goes unrecorded; the server log has the same line.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from influxdb_client import Point

from connectors.sinks.influx import InfluxWriter
from graphql_server.corrections.recompute import delete_points, predicate_string
from graphql_server.corrections.store import CorrectionsStore
from graphql_server.validation import TimeRange
from streamlines.contracts.influx import MEASUREMENT_BAR_DELETIONS, MEASUREMENT_BARS
from streamlines.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deletion:
    symbol: str
    timeframe: str
    window: TimeRange
    who: str
    reason: str
    deleted: int
    at_ns: int
    recompute_job: str


def audit_point(deletion: Deletion) -> Point:
    return (
        Point(MEASUREMENT_BAR_DELETIONS)
        .tag("symbol", deletion.symbol)
        .tag("timeframe", deletion.timeframe)
        .field("who", deletion.who)
        .field("reason", deletion.reason)
        .field("start_ns", deletion.window.start_ns)
        .field("end_ns", deletion.window.end_ns)
        .field("deleted", deletion.deleted)
        .field("recompute_job", deletion.recompute_job)
        .time(deletion.at_ns)
    )


def delete_bars(
    settings: Settings,
    store: CorrectionsStore,
    symbol: str,
    timeframe: str,
    window: TimeRange,
    who: str,
    reason: str,
    recompute_job: str,
) -> Deletion:
    """Delete the bars of ``symbol`` at ``timeframe`` starting in [start, end); the audit
    record names ``recompute_job``, the job that will recompute the indicators."""
    count = store.count_bars(symbol, timeframe, window)
    deletion = Deletion(
        symbol, timeframe, window, who, reason, count, time.time_ns(), recompute_job
    )
    with InfluxWriter.from_settings(settings, settings.gather_bucket) as writer:
        writer.write([audit_point(deletion)])
    predicate = (
        f"_measurement={predicate_string(MEASUREMENT_BARS)} AND symbol={predicate_string(symbol)}"
        f" AND timeframe={predicate_string(timeframe)}"
    )
    if count:
        delete_points(
            settings, settings.gather_bucket, window.start_ns, window.end_ns - 1, predicate
        )
    log.warning(
        "deleted %d %s bars of %s in [%s, %s) for %s: %s (recompute: job %s)",
        count, timeframe, symbol, window.start.isoformat(), window.end.isoformat(), who, reason,
        recompute_job,
    )  # fmt: skip
    return deletion
