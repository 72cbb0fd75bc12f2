"""What a gather fetches for a range, and how failed symbols are reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.gather.run import SymbolResult
from connectors.gather.service import Job, Report, raise_failures, range_jobs
from streamlines.errors import UserError

FIRST = datetime(2012, 1, 1, tzinfo=UTC)
LAST = datetime(2012, 3, 31, tzinfo=UTC)


def test_one_job_per_symbol_over_the_whole_range():
    jobs = range_jobs(["GOOG", "NOPE"], FIRST, LAST)
    assert [(j.symbol, j.start, j.end) for j in jobs] == [
        ("GOOG", FIRST, LAST),
        ("NOPE", FIRST, LAST),
    ]
    assert all(isinstance(j, Job) for j in jobs)
    assert jobs[0].if_empty == (
        "no bars from 2012-01-01 00:00 to 2012-03-31 00:00 UTC: an unknown symbol, or no "
        "trading then"
    )


def test_failed_symbols_are_one_user_error_and_none_is_no_error():
    raise_failures(Report({"GOOG": SymbolResult(bars=3)}), 1)
    report = Report({"GOOG": SymbolResult(bars=3), "NOPE": SymbolResult(error="no bars")})
    with pytest.raises(UserError, match=r"1 of 2 symbols failed \(the others were written\)"):
        raise_failures(report, 2)
