"""deleteBars refuses bad arguments before anything is deleted."""

from graphql_server.corrections.store import CorrectionsStore
from graphql_server.jobs.registry import JobRegistry
from tests.support.graphql import execute


class FakeCorrections:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def count_bars(self, *args: object) -> int:
        self.calls.append(("count_bars", *args))
        return 0


def test_bad_arguments_are_refused_before_anything_runs():
    store = FakeCorrections()
    cases = {
        'mutation { deleteBars(symbol: "GOOG", start: "2012-01-01", end: "2012-01-02", '
        'reason: "  ") { deletion { deleted } } }': "no reason given",
    }  # fmt: skip
    for query, message in cases.items():
        result = execute(query, {CorrectionsStore: store, JobRegistry: JobRegistry()})
        assert result.errors, query
        assert message in result.errors[0].message, (query, result.errors)
    assert store.calls == []
