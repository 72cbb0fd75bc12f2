"""``deleteBars``: remove bad bars of one symbol from the market bucket (InfluxDB's delete API),
record who deleted what and why, and start the recompute of the indicators that depended on
them (``graphql_server.corrections.recompute``).

The audit record goes to the metadata database (``streamlines.metadata.audit``): who (the
key's user), the symbol, timeframe and range, why, how many bars, the recompute job. It is
written before the bars are deleted, so no deletion goes unrecorded; the server log has the
same line.
"""

from __future__ import annotations

import logging

from graphql_server.corrections.recompute import delete_points, predicate_string
from graphql_server.corrections.store import CorrectionsStore
from graphql_server.validation import TimeRange
from streamlines.contracts.influx import MEASUREMENT_BARS
from streamlines.metadata.accounts import Principal
from streamlines.metadata.audit import DeletionAudit, DeletionRecord
from streamlines.settings import Settings

log = logging.getLogger(__name__)


def delete_bars(
    settings: Settings,
    store: CorrectionsStore,
    audit: DeletionAudit,
    symbol: str,
    timeframe: str,
    window: TimeRange,
    who: Principal,
    reason: str,
    recompute_job: str,
) -> DeletionRecord:
    """Delete the bars of ``symbol`` at ``timeframe`` starting in [start, end) for ``who``;
    the audit record names ``recompute_job``, the job that will recompute the indicators."""
    count = store.count_bars(symbol, timeframe, window)
    record = audit.record(
        user_id=who.user_id, who=who.name, symbol=symbol, timeframe=timeframe,
        start=window.start, end=window.end, reason=reason, deleted=count,
        recompute_job=recompute_job,
    )  # fmt: skip
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
        count, timeframe, symbol, window.start.isoformat(), window.end.isoformat(), who.name,
        reason, recompute_job,
    )  # fmt: skip
    return record
