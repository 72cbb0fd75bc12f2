"""A real metadata database (SQLite, in the test's folder) with the users the in-process
requests act as (alice, bob and root get the user ids of ALICE, BOB and ROOT), and a way to wait
for a job to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphql_server.jobs.registry import JobRegistry, JobSnapshot
from streamlines.metadata.accounts import Accounts
from streamlines.metadata.database import Database, open_database
from streamlines.settings import Settings
from tests.support.graphql import ALICE, BOB, ROOT
from tests.support.metadata import sqlite_url


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(database_url=sqlite_url(tmp_path)))
    accounts = Accounts(database)
    for principal in (ALICE, BOB, ROOT):
        added = accounts.add_user(principal.name, principal.is_admin)
        assert added.id == principal.user_id
    yield database
    database.close()


def finished(registry: JobRegistry, job_id: str, timeout: float = 10.0) -> JobSnapshot:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = registry.get(job_id)
        if job is not None and job.state.finished:
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")
