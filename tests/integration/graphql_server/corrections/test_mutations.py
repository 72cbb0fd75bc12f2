"""deleteBars on the real server, InfluxDB and metadata database (SQLite and PostgreSQL): without
a key or with a revoked one it is refused and nothing changes, neither the bars nor the audit;
with a key, the audit records the key's user, whatever header the client sends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from influxdb_client import InfluxDBClient

from graphql_server.client import post, query
from streamlines.metadata.accounts import Accounts
from streamlines.metadata.audit import DeletionAudit, DeletionRecord
from streamlines.metadata.database import open_database
from streamlines.settings import Settings
from tests.support.gather import field_values
from tests.support.graphql_jobs import backfill, job_end, job_server, job_server_env
from tests.support.metadata import Keys
from tests.support.replay import ReplayServer

DELETE = """mutation { deleteBars(symbol: "GOOG", start: "2012-01-01", end: "2012-04-01",
  reason: "bad prints from the feed") { deletion { who reason deleted recomputeJob }
  recompute { id owner } } }"""
AUDIT = '{ barDeletions(symbol: "GOOG") { who reason deleted start end recomputeJob } }'


def audit_rows(url: str) -> list[DeletionRecord]:
    database = open_database(Settings(database_url=url))
    try:
        return DeletionAudit(database).recent(100)
    finally:
        database.close()


def revoked_key(url: str) -> str:
    """A key of alice's, revoked."""
    database = open_database(Settings(database_url=url))
    try:
        accounts = Accounts(database)
        key = accounts.create_key("alice", "revoked at once")
        accounts.revoke_key(key.record.prefix)
        return key.secret
    finally:
        database.close()


def test_delete_bars_needs_a_valid_key_and_audits_the_keys_user(
    keys: Keys,
    replay: ReplayServer,
    make_bucket: Callable[[str], str],
    influx: InfluxDBClient,
    unique_name: str,
    tmp_path: Path,
):
    market = make_bucket("market")
    env = job_server_env(keys, replay, market, make_bucket("analytics"), unique_name)
    with job_server(env, tmp_path / "graphql.log") as url:
        gathered = job_end(url, keys.alice, backfill(url, keys.alice, ["GOOG"], "2012-01-01",
                                                     "2012-03-31"))  # fmt: skip
        assert gathered["status"] == "SUCCEEDED", gathered
        bars = gathered["items"]
        values = field_values(influx, market)
        assert bars > 50
        assert values > bars

        refused = {"no key": None, "revoked key": revoked_key(keys.url), "malformed key": "sl_x"}
        for why, key in refused.items():
            status, answer = post(url, DELETE, api_key=key)
            assert status == 200, (why, answer)
            assert answer["data"] is None, why
            [error] = answer["errors"]
            assert error["extensions"] == {"code": "UNAUTHENTICATED"}, why
            assert "streamlines keys create" in error["message"], why
            assert field_values(influx, market) == values, why
            assert audit_rows(keys.url) == [], why
        jobs = query(url, "{ jobs { kind } }", api_key=keys.root)["jobs"]
        assert jobs == [{"kind": "backfill"}]  # no recompute started either

        result = query(url, DELETE, headers={"X-Streamlines-User": "mallory"},
                       api_key=keys.alice)["deleteBars"]  # fmt: skip
        assert result["deletion"] == {"who": "alice", "reason": "bad prints from the feed",
                                      "deleted": bars,
                                      "recomputeJob": result["recompute"]["id"]}  # fmt: skip
        assert result["recompute"]["owner"] == "alice"
        assert field_values(influx, market) == 0
        [row] = audit_rows(keys.url)
        assert (row.who, row.symbol, row.deleted) == ("alice", "GOOG", bars)
        assert row.recompute_job == result["recompute"]["id"]
        # any key reads the audit; nobody without one
        audit = query(url, AUDIT, api_key=keys.bob)["barDeletions"]
        assert audit == [{"who": "alice", "reason": "bad prints from the feed", "deleted": bars,
                          "start": "2012-01-01T00:00:00+00:00",
                          "end": "2012-04-01T00:00:00+00:00",
                          "recomputeJob": row.recompute_job}]  # fmt: skip
        assert post(url, AUDIT)[1]["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
        recomputed = job_end(url, keys.alice, row.recompute_job)
        assert recomputed["status"] == "SUCCEEDED", recomputed
