"""How a gather is split over processes and how their reports add up."""

from datetime import UTC, datetime

from connectors.gather.processes import merge, split
from connectors.gather.run import Job, Report, SymbolResult

T = datetime(2012, 1, 1, tzinfo=UTC)


def test_symbols_are_dealt_round_robin_and_no_process_is_empty():
    jobs = [Job(s, T, T) for s in "ABCDE"]
    assert [[j.symbol for j in g] for g in split(jobs, 2)] == [["A", "C", "E"], ["B", "D"]]
    assert [[j.symbol for j in g] for g in split(jobs[:1], 4)] == [["A"]]


def test_reports_add_up_and_the_slowest_process_sets_the_time():
    a = Report({"A": SymbolResult(bars=10)}, points=10, records=10, retries=1, seconds=2.0)
    b = Report({"B": SymbolResult(error="no bars")}, points=0, records=0, seconds=3.5)
    merged = merge([a, b])
    assert merged.bars == 10
    assert merged.failed == {"B": "no bars"}
    assert (merged.points, merged.records, merged.retries, merged.seconds) == (10, 10, 1, 3.5)
