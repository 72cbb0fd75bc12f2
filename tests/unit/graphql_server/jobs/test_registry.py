"""The job registry: ids at once, snapshots to watchers as the work reports, clear failures;
with a store, jobs that survive the registry (finished ones as they ended, the others
interrupted)."""

import asyncio
import threading
import time

import pytest

from graphql_server.errors import QueryError
from graphql_server.jobs.registry import JobHandle, JobRegistry, JobState, Work
from graphql_server.jobs.snapshot import to_stored
from streamlines.errors import UserError
from streamlines.metadata.jobs import JobStore, StoredJob
from tests.support.graphql import ALICE, BOB
from tests.unit.graphql_server.jobs.conftest import finished


def watch_all(registry: JobRegistry, start) -> list:
    async def main():
        job = start()
        return job, [snapshot async for snapshot in registry.watch(job.id)]

    return asyncio.run(main())


def test_a_job_reports_progress_then_succeeds():
    registry = JobRegistry()
    release = threading.Event()

    def work(handle: JobHandle) -> None:
        release.wait(5)
        handle.update(phase="gathering", total=2)
        handle.add_items(10)
        handle.update(done=1)
        handle.add_items(5)
        handle.update(done=2, result={"bars": 15})

    def start():
        job = registry.start("backfill", "two symbols", work)
        assert job.state is JobState.QUEUED
        assert len(job.id) == 12
        release.set()
        return job

    job, seen = watch_all(registry, start)
    final = seen[-1]
    assert final.state is JobState.SUCCEEDED
    assert (final.done, final.total, final.items, final.result) == (2, 2, 15, {"bars": 15})
    assert final.started_at is not None
    assert final.finished_at >= final.started_at
    assert seen[0].state is JobState.QUEUED or seen[0].state is JobState.RUNNING
    assert [s.items for s in seen] == sorted(s.items for s in seen)  # never goes back
    assert registry.get(job.id) == final


def test_reported_errors_make_a_job_partial_and_a_user_error_fails_it_with_its_fix():
    registry = JobRegistry()

    def partial(handle: JobHandle) -> None:
        handle.error("NOPE: no bars in that range")

    def failing(handle: JobHandle) -> None:
        raise UserError("cannot reach Kafka", "start the local stack")

    def crashing(handle: JobHandle) -> None:
        raise KeyError("t_ns")

    results = {}
    for name, work in [("partial", partial), ("failing", failing), ("crashing", crashing)]:
        _, seen = watch_all(registry, lambda w=work, n=name: registry.start(n, n, w))
        results[name] = seen[-1]
    assert results["partial"].state is JobState.PARTIAL
    assert results["partial"].errors == ("NOPE: no bars in that range",)
    assert results["failing"].state is JobState.FAILED
    assert results["failing"].errors == ("cannot reach Kafka (fix: start the local stack)",)
    assert results["crashing"].state is JobState.FAILED
    assert "internal error (KeyError)" in results["crashing"].errors[0]


def test_a_job_can_be_started_under_an_id_named_beforehand():
    registry = JobRegistry()
    job_id = registry.new_id()
    _, seen = watch_all(registry, lambda: registry.start("recompute", "x", lambda h: None, job_id))
    assert seen[-1].id == job_id
    assert seen[-1].state is JobState.SUCCEEDED


def test_watching_an_unknown_job_ends_at_once():
    registry = JobRegistry()

    async def main():
        return [s async for s in registry.watch("nope")]

    assert asyncio.run(main()) == []


def test_the_registry_forgets_the_oldest_finished_jobs():
    registry = JobRegistry(keep=3)

    async def main():
        ids = []
        for k in range(6):
            job = registry.start("x", str(k), lambda h: None)
            ids.append(job.id)
            async for _ in registry.watch(job.id):
                pass
        return ids

    ids = asyncio.run(main())
    assert [j.id for j in registry.recent(10)] == ids[::-1][:3]


# With a store (a real SQLite metadata database): jobs outlive the registry.


def waits_for(event: threading.Event) -> Work:
    def work(handle: JobHandle) -> None:
        event.wait(10)

    return work


def test_finished_jobs_come_back_from_a_new_registry_on_the_same_database(database):
    first = JobRegistry(store=JobStore(database))
    done = first.start("backfill", "one symbol", lambda h: h.update(done=1, total=1,
                       result={"bars": 3}), owner_id=ALICE.user_id)  # fmt: skip
    failed = first.start("recompute", "x", lambda h: h.error("NOPE"), owner_id=BOB.user_id)
    ended = {job.id: finished(first, job.id) for job in (done, failed)}
    first.close()

    second = JobRegistry(store=JobStore(database))
    assert second.mark_interrupted() == 0
    for job_id, job in ended.items():
        back = second.get(job_id)
        assert back is not None
        assert to_stored(back) == to_stored(job)  # equal to the microsecond the database keeps
    assert second.get(done.id).result == {"bars": 3}  # type: ignore[union-attr]
    assert [j.id for j in second.recent(10)] == [failed.id, done.id]
    assert [j.id for j in second.recent(10, owner_id=ALICE.user_id)] == [done.id]
    # a new job lists before the old ones, from memory and store alike
    new = second.start("x", "new", lambda h: None, owner_id=ALICE.user_id)
    finished(second, new.id)
    assert [j.id for j in second.recent(10, owner_id=ALICE.user_id)] == [new.id, done.id]
    assert [j.id for j in second.recent(1)] == [new.id]
    second.close()


def test_jobs_queued_or_running_when_the_server_stopped_come_back_interrupted(database):
    first = JobRegistry(workers=1, store=JobStore(database))
    release = threading.Event()
    running = first.start("backfill", "slow", waits_for(release), owner_id=ALICE.user_id)
    queued = first.start("backfill", "behind it", lambda h: None, owner_id=ALICE.user_id)
    try:
        while first.get(running.id).state is not JobState.RUNNING:  # type: ignore[union-attr]
            time.sleep(0.01)
        first.flush()

        second = JobRegistry(store=JobStore(database))
        assert second.mark_interrupted() == 2
        for job in (running, queued):
            back = second.get(job.id)
            assert back is not None
            assert back.state is JobState.INTERRUPTED
            assert back.state.finished
            assert back.errors == ("the server stopped while this job ran; start it again",)
            assert back.finished_at is not None
            assert back.owner_id == ALICE.user_id
        assert second.mark_interrupted() == 0

        async def watched() -> list:
            return [s async for s in second.watch(running.id)]

        assert [s.state for s in asyncio.run(watched())] == [JobState.INTERRUPTED]
        second.close()
    finally:
        first.close()
        release.set()


def test_running_count_counts_an_owners_queued_and_running_jobs():
    registry = JobRegistry(workers=1)
    release = threading.Event()
    started = [registry.start("x", "slow", waits_for(release), owner_id=1) for _ in range(2)]
    registry.start("x", "bob's", lambda h: None, owner_id=2)
    try:
        assert registry.running_count(1) == 2
        assert registry.running_count(3) == 0
    finally:
        release.set()
    for job in started:
        finished(registry, job.id)
    assert registry.running_count(1) == 0
    registry.close()


def test_an_owner_with_the_most_jobs_running_is_refused_until_one_finishes():
    registry = JobRegistry(workers=1, max_running=2)
    release = threading.Event()
    slow = [registry.start("x", "slow", waits_for(release), owner_id=1) for _ in range(2)]
    try:
        with pytest.raises(QueryError, match=r"^2 jobs running; retry when one finishes"):
            registry.start("x", "a third", lambda h: None, owner_id=1)
        with pytest.raises(QueryError, match="2 jobs running"):
            registry.check_room(1)
        assert registry.running_count(1) == 2  # the refused job was never queued
        registry.check_room(2)
        registry.start("x", "bob's", lambda h: None, owner_id=2)  # others are not held up
        registry.start("x", "no owner", lambda h: None)  # the server's own jobs neither
    finally:
        release.set()
    for job in slow:
        finished(registry, job.id)
    finished(registry, registry.start("x", "room again", lambda h: None, owner_id=1).id)
    registry.close()


def test_each_change_of_state_reaches_the_store_at_once_and_progress_waits(database):
    store = JobStore(database)
    registry = JobRegistry(store=store, progress_interval=60)
    go, reported, release = threading.Event(), threading.Event(), threading.Event()

    def work(handle: JobHandle) -> None:
        go.wait(10)
        handle.update(done=1, total=2)
        reported.set()
        release.wait(10)

    job = registry.start("x", "y", work, owner_id=ALICE.user_id)

    def stored(state: str) -> StoredJob:
        deadline = time.monotonic() + 5
        while (found := store.get(job.id)) is None or found.state != state:
            assert time.monotonic() < deadline, f"the store never had the job {state}"
            time.sleep(0.01)
        return found

    try:
        stored("running")
        go.set()
        assert reported.wait(5)
        time.sleep(0.3)
        assert stored("running").done == 0  # the step waits for its minute
    finally:
        release.set()
    assert stored("succeeded").done == 1  # the end does not wait
    registry.close()
