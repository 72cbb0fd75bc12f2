"""The job registry: ids at once, snapshots to watchers as the work reports, clear failures."""

import asyncio
import threading

from graphql_server.jobs.registry import JobHandle, JobRegistry, JobState
from streamlines.errors import UserError


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
