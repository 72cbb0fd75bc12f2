"""Jobs belong to their owner on the real server (SQLite and PostgreSQL): alice cannot read,
list or watch bob's job (it answers as an unknown one), root sees both; no key, no jobs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from graphql_server.client import GraphQLClientError, post, query
from tests.support.graphql_jobs import (
    backfill,
    job,
    job_end,
    job_server,
    job_server_env,
)
from tests.support.metadata import Keys
from tests.support.replay import ReplayServer

JOBS = "{ jobs { id owner } }"


def test_a_user_sees_their_own_jobs_and_an_admin_everyones(
    keys: Keys,
    replay: ReplayServer,
    make_bucket: Callable[[str], str],
    unique_name: str,
    tmp_path: Path,
):
    env = job_server_env(keys, replay, make_bucket("market"), make_bucket("analytics"),
                         unique_name)  # fmt: skip
    with job_server(env, tmp_path / "graphql.log") as url:
        alices = backfill(url, keys.alice, ["GOOG"], "2012-01-01", "2012-01-31")
        bobs = backfill(url, keys.bob, ["SP500"], "2012-01-01", "2012-01-31")
        assert job_end(url, keys.alice, alices)["status"] == "SUCCEEDED"
        assert job_end(url, keys.bob, bobs)["owner"] == "bob"

        assert job(url, keys.alice, bobs) is None
        assert job(url, keys.alice, "000000000000") is None
        assert job(url, keys.root, bobs)["owner"] == "bob"  # type: ignore[index]
        assert query(url, JOBS, api_key=keys.alice)["jobs"] == [{"id": alices, "owner": "alice"}]
        assert query(url, JOBS, api_key=keys.root)["jobs"] == [
            {"id": bobs, "owner": "bob"}, {"id": alices, "owner": "alice"},
        ]  # fmt: skip
        with pytest.raises(GraphQLClientError, match="no job") as theirs:
            job_end(url, keys.alice, bobs, timeout=10)
        with pytest.raises(GraphQLClientError, match="no job") as unknown:
            job_end(url, keys.alice, "000000000000", timeout=10)
        assert str(theirs.value).replace(bobs, "ID") == str(unknown.value).replace(
            "000000000000", "ID"
        )
        _status, answer = post(url, JOBS)
        assert answer["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
