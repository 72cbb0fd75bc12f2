"""barDeletions reads the audit from the metadata database; any key may read it, none is
refused."""

from __future__ import annotations

from datetime import UTC, datetime

from streamlines.metadata.audit import DeletionAudit
from streamlines.metadata.database import Database
from tests.support.graphql import ALICE, BOB, execute

QUERY = '{ barDeletions(symbol: "GOOG") { symbol timeframe who reason deleted start end at } }'


def record(audit: DeletionAudit, symbol: str, who: str, user_id: int) -> None:
    audit.record(user_id=user_id, who=who, symbol=symbol, timeframe="1Day",
                 start=datetime(2012, 1, 3, tzinfo=UTC), end=datetime(2012, 1, 5, tzinfo=UTC),
                 reason="bad prints", deleted=2, recompute_job="abc")  # fmt: skip


def test_any_key_reads_the_audit_of_a_symbol_newest_first(database: Database):
    audit = DeletionAudit(database)
    record(audit, "GOOG", "alice", ALICE.user_id)
    record(audit, "SP500", "alice", ALICE.user_id)
    record(audit, "GOOG", "bob", BOB.user_id)
    result = execute(QUERY, {DeletionAudit: audit}, principal=BOB)
    assert result.errors is None, result.errors
    assert result.data is not None
    rows = result.data["barDeletions"]
    assert [(r["symbol"], r["who"]) for r in rows] == [("GOOG", "bob"), ("GOOG", "alice")]
    assert rows[0]["start"] == "2012-01-03T00:00:00+00:00"
    assert rows[0]["end"] == "2012-01-05T00:00:00+00:00"
    assert rows[0]["at"] >= rows[1]["at"]


def test_without_a_key_the_audit_is_refused(database: Database):
    result = execute(QUERY, {DeletionAudit: DeletionAudit(database)}, principal=None)
    assert result.errors
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
