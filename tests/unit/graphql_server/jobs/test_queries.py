"""The job queries and subscription: a key is needed; a user sees only their own jobs (another
user's answers exactly as an unknown one), an administrator every job; jobs from before a
restart are found in the metadata database."""

from __future__ import annotations

import asyncio

import pytest

from graphql_server.jobs.registry import JobRegistry
from streamlines.metadata.database import Database
from streamlines.metadata.jobs import JobStore
from tests.support.graphql import ALICE, BOB, ROOT, execute, subscribe
from tests.unit.graphql_server.jobs.conftest import finished

JOBS = "{ jobs { id owner status } }"
JOB = "query($id: String!) { job(id: $id) { id owner status description } }"


@pytest.fixture
def jobs(database: Database):
    """A registry on the database with a finished job of alice's and one of bob's."""
    registry = JobRegistry(store=JobStore(database))
    ids = {}
    for principal in (ALICE, BOB):
        job = registry.start("x", f"{principal.name}'s", lambda h: None, owner_id=principal.user_id)
        ids[principal.name] = finished(registry, job.id).id
    yield registry, ids
    registry.close()


def services(registry: JobRegistry, database: Database) -> dict[type, object]:
    return {JobRegistry: registry, JobStore: JobStore(database)}


def test_a_user_lists_their_own_jobs_and_an_admin_everyones(jobs, database):
    registry, ids = jobs
    listed = {}
    for principal in (ALICE, BOB, ROOT):
        result = execute(JOBS, services(registry, database), principal=principal)
        assert result.errors is None, result.errors
        assert result.data is not None
        listed[principal.name] = [(j["id"], j["owner"]) for j in result.data["jobs"]]
    assert listed["alice"] == [(ids["alice"], "alice")]
    assert listed["bob"] == [(ids["bob"], "bob")]
    assert listed["root"] == [(ids["bob"], "bob"), (ids["alice"], "alice")]


def test_another_users_job_answers_as_an_unknown_one(jobs, database):
    registry, ids = jobs
    seen = {}
    for principal in (ALICE, BOB, ROOT):
        for owner, job_id in ids.items():
            result = execute(JOB, services(registry, database), principal=principal, id=job_id)
            assert result.errors is None, result.errors
            assert result.data is not None
            seen[principal.name, owner] = result.data["job"]
    unknown = execute(JOB, services(registry, database), principal=ALICE, id="nope").data
    assert unknown == {"job": None}
    assert seen["alice", "bob"] is None
    assert seen["bob", "alice"] is None
    assert seen["alice", "alice"]["owner"] == "alice"
    assert seen["root", "alice"]["description"] == "alice's"
    assert seen["root", "bob"]["status"] == "SUCCEEDED"


def test_without_a_key_the_job_queries_are_refused(jobs, database):
    registry, ids = jobs
    for query, variables in ((JOBS, {}), (JOB, {"id": ids["alice"]})):
        result = execute(query, services(registry, database), principal=None, **variables)
        assert result.errors, query
        assert "this needs an API key" in result.errors[0].message
        assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}


def test_after_a_restart_the_jobs_are_read_from_the_database(jobs, database):
    old, ids = jobs
    old.close()
    registry = JobRegistry(store=JobStore(database))
    result = execute(JOB, services(registry, database), principal=ALICE, id=ids["alice"])
    assert result.data == {
        "job": {"id": ids["alice"], "owner": "alice", "status": "SUCCEEDED",
                "description": "alice's"}
    }  # fmt: skip
    listed = execute(JOBS, services(registry, database), principal=BOB).data
    assert listed == {"jobs": [{"id": ids["bob"], "owner": "bob", "status": "SUCCEEDED"}]}
    hidden = execute(JOB, services(registry, database), principal=BOB, id=ids["alice"]).data
    assert hidden == {"job": None}
    registry.close()


def test_a_job_nobody_owns_is_an_administrators_only():
    registry = JobRegistry()
    job = finished(registry, registry.start("x", "from before users", lambda h: None).id)
    query = "query($id: String!) { job(id: $id) { owner } }"
    assert execute(query, {JobRegistry: registry}, principal=ALICE, id=job.id).data == {"job": None}
    assert execute(query, {JobRegistry: registry}, principal=ROOT, id=job.id).data == {
        "job": {"owner": None}
    }


def test_the_job_subscription_refuses_another_users_job_as_an_unknown_one(jobs, database):
    registry, ids = jobs

    async def received(principal, job_id: str):
        document = f'subscription {{ job(id: "{job_id}") {{ id status }} }}'
        stream = await subscribe(document, services(registry, database), principal=principal)
        return [result async for result in stream]

    mine = asyncio.run(received(ALICE, ids["alice"]))
    assert [r.data for r in mine] == [{"job": {"id": ids["alice"], "status": "SUCCEEDED"}}]
    for principal, job_id in ((ALICE, ids["bob"]), (ALICE, "nope"), (None, ids["alice"])):
        refused = asyncio.run(received(principal, job_id))
        assert len(refused) == 1
        assert refused[0].errors, (principal, job_id)
    theirs = asyncio.run(received(ALICE, ids["bob"]))[0].errors[0].message
    unknown = asyncio.run(received(ALICE, "nope"))[0].errors[0].message
    assert theirs.replace(ids["bob"], "ID") == unknown.replace("nope", "ID")
    root = asyncio.run(received(ROOT, ids["bob"]))
    assert [r.data for r in root] == [{"job": {"id": ids["bob"], "status": "SUCCEEDED"}}]
