"""Fault 8: the disk of the job registry (the metadata database: the GraphQL server's jobs,
users, keys) runs full.

The database (SQLite) sits on a 1 MiB tmpfs mounted for the test (needs root: skipped
otherwise). Jobs are recorded, a file fills what is left of the disk, and more jobs are
recorded, as the GraphQL server's job journal does. Checked: each write that finds no room is
a clear error (a UserError that says the database is out of space, that the write was rolled
back and how to make room), never half written; the database passes SQLite's integrity check
and every job stored before is there as it was; once space is freed, writes work again.

The analytics sink keeps no buffer on disk (it holds one batch in memory while InfluxDB is
away, fault 3), so the registry is where a full disk meets this project's own state.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from graphql_server.jobs.journal import JobJournal
from graphql_server.jobs.snapshot import JobSnapshot, JobState
from streamlines.errors import UserError
from streamlines.metadata.database import open_database
from streamlines.metadata.jobs import JobStore, StoredJob
from streamlines.settings import Settings
from tests.support.faults import report

SIZE = "1m"
BEFORE = 20  # jobs stored while there is room
AFTER = 20  # jobs tried on the full disk
RESULT_BYTES = 8_000  # each job's result: a list of rows, as a gather job keeps


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def job(i: int) -> StoredJob:
    return StoredJob(
        id=f"job-{i:04d}", owner_id=None, kind="gather", description=f"fault 8 job {i}",
        state="succeeded", phase="succeeded", done=i, total=i, items=i,
        created_at=datetime(2026, 1, 1, tzinfo=UTC), result={"rows": "x" * RESULT_BYTES},
    )  # fmt: skip


def fill(folder: Path) -> Path:
    """A file that takes every byte left on ``folder``'s filesystem."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0
    return filler


def test_a_full_disk_is_a_clear_error_and_corrupts_nothing(small_disk: Path, caplog):
    url = f"sqlite:///{small_disk / 'metadata.db'}"
    database = open_database(Settings(database_url=url))
    store = JobStore(database)
    for i in range(BEFORE):
        store.save(job(i))
    stored_before = {j.id: j for j in store.recent(1000)}
    assert len(stored_before) == BEFORE

    filler = fill(small_disk)
    errors: list[str] = []
    for i in range(BEFORE, BEFORE + AFTER):
        try:
            store.save(job(i))
        except UserError as exc:
            errors.append(str(exc))
    # The GraphQL server's journal writes on its own thread and must log, not die.
    journal = JobJournal(store, interval=0.0)
    snapshot = JobSnapshot(id="journal-job", kind="gather", state=JobState.SUCCEEDED,
                           created_at=time.time(), description="on a full disk",
                           result={"rows": "x" * RESULT_BYTES})  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="graphql_server.jobs.journal"):
        journal.record(snapshot, state_changed=True)
        journal.flush()
        journal.close()
    journal_log = [r.getMessage() for r in caplog.records if "journal-job" in r.getMessage()]

    with database.engine.connect() as connection:
        integrity = connection.execute(text("PRAGMA integrity_check")).scalar()
    stored_after = {j.id: j for j in store.recent(1000)}
    kept = sum(stored_after.get(k) == v for k, v in stored_before.items())
    written_on_full = len(stored_after) - BEFORE - (1 if "journal-job" in stored_after else 0)
    half_written = [
        k for k, j in stored_after.items() if k not in stored_before and j.result != job(0).result
    ]

    filler.unlink()
    store.save(job(999))
    recovered = store.get("job-0999") is not None
    database.close()
    print(
        report(
            "8 disk full (job registry)",
            writes_on_full_disk=AFTER + 1,
            clear_errors=len(errors) + len(journal_log),
            written_anyway=written_on_full,
            jobs_kept_unchanged=f"{kept}/{BEFORE}",
            integrity_check=integrity,
            writes_again_after_freeing_space=recovered,
        )
    )
    assert errors, "no write failed: the disk was not full"
    assert len(errors) + written_on_full == AFTER
    for message in errors:
        assert "out of space" in message, message
        assert "rolled back" in message
        assert "fix: free space on its disk" in message
    assert journal_log, "the journal did not log its failed write"
    assert "out of space" in journal_log[0], journal_log[0]
    assert integrity == "ok"
    assert kept == BEFORE, "a job stored before the disk filled changed or went missing"
    assert not half_written
    assert recovered
