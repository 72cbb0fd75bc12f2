"""The job queries."""

from graphql_server.jobs.registry import JobRegistry
from tests.support.graphql import execute


def test_an_unknown_job_is_null():
    assert execute('{ job(id: "nope") { id } }', {JobRegistry: JobRegistry()}).data == {"job": None}
