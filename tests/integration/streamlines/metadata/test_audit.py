"""The audit of deleted bars, on SQLite and PostgreSQL: newest first, by symbol, and every time
back as an aware UTC datetime."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from streamlines.metadata.audit import DeletionAudit
from streamlines.metadata.tables import now

START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


@pytest.fixture
def audit(database) -> DeletionAudit:
    return DeletionAudit(database)


def _record(audit: DeletionAudit, symbol: str, user_id: int | None = None, who: str = "alice"):
    return audit.record(user_id=user_id, who=who, symbol=symbol, timeframe="1Min", start=START,
                        end=START + timedelta(hours=1), reason="bad print", deleted=60,
                        recompute_job="job-1")  # fmt: skip


def test_a_record_comes_back_as_written(audit, people):
    written = _record(audit, "AAPL", people.alice.user_id)
    assert audit.recent(10) == [written]
    assert (written.who, written.user_id, written.symbol, written.timeframe) == (
        "alice", people.alice.user_id, "AAPL", "1Min"
    )  # fmt: skip
    assert (written.reason, written.deleted, written.recompute_job) == ("bad print", 60, "job-1")
    assert abs(now() - written.deleted_at) < timedelta(seconds=30)


def test_recent_is_newest_first_limited_and_by_symbol(audit):
    for symbol in ("AAPL", "MSFT", "AAPL", "TSLA"):
        _record(audit, symbol)
        time.sleep(0.002)  # distinct deletion times
    assert [r.symbol for r in audit.recent(10)] == ["TSLA", "AAPL", "MSFT", "AAPL"]
    assert [r.symbol for r in audit.recent(2)] == ["TSLA", "AAPL"]
    aapl = audit.recent(10, "AAPL")
    assert [r.symbol for r in aapl] == ["AAPL", "AAPL"]
    assert aapl[0].id > aapl[1].id
    assert audit.recent(10, "NVDA") == []


def test_times_are_aware_utc_on_the_way_back_whatever_zone_went_in(audit):
    new_york = timezone(timedelta(hours=-5))
    start, end = START.astimezone(new_york), (START + timedelta(days=1)).astimezone(new_york)
    audit.record(user_id=None, who="root", symbol="AAPL", timeframe="1Day", start=start,
                 end=end, reason="split", deleted=1, recompute_job="")  # fmt: skip
    (found,) = audit.recent(1)
    for moment in (found.start, found.end, found.deleted_at):
        assert moment.utcoffset() == timedelta(0)
    assert found.start == START
    assert found.start.hour == 14
    assert found.end == START + timedelta(days=1)


def test_a_naive_time_is_refused(audit):
    with pytest.raises(StatementError, match="naive datetime"):
        audit.record(user_id=None, who="root", symbol="AAPL", timeframe="1Day",
                     start=datetime(2026, 3, 2), end=START, reason="x", deleted=0,
                     recompute_job="")  # fmt: skip
    assert audit.recent(10) == []
