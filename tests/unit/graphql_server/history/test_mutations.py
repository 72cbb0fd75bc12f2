"""The gather mutations refuse bad arguments before a job starts."""

from graphql_server.jobs.registry import JobRegistry
from tests.support.graphql import execute


def test_bad_arguments_are_refused_before_anything_runs():
    jobs = JobRegistry()
    cases = {
        'mutation { backfill(symbols: [], start: "2012-01-01", end: "2012-01-02") { id } }':
            "no symbols",
    }  # fmt: skip
    for query, message in cases.items():
        result = execute(query, {JobRegistry: jobs})
        assert result.errors, query
        assert message in result.errors[0].message, (query, result.errors)
    assert jobs.recent(10) == []
