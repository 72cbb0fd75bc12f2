"""`gather --daily`: which bars a daily run asks for, and the in-process schedule."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from connectors.gather.daily import (
    RECENT_DATA_DELAY,
    daily_jobs,
    next_run,
    run_every_day,
)
from streamlines.contracts.time import datetime_to_ns
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError

NOW = datetime(2018, 7, 4, 12, 0, tzinfo=UTC)


def test_tracked_symbols_continue_after_their_last_stored_bar():
    stored = {
        "SP500": datetime_to_ns(datetime(2018, 6, 29, tzinfo=UTC)),
        "NASDAQ": datetime_to_ns(datetime(2018, 7, 2, tzinfo=UTC)),
    }
    jobs = {job.symbol: job for job in daily_jobs(stored, None, BarTimeframe.DAY_1, NOW)}
    assert sorted(jobs) == ["NASDAQ", "SP500"]
    sp500 = jobs["SP500"]
    assert sp500.start == datetime(2018, 6, 29, 0, 0, 0, 1, tzinfo=UTC)
    assert sp500.end == NOW - RECENT_DATA_DELAY
    assert sp500.completed_by == NOW
    assert not sp500.latest_only
    assert sp500.if_empty is None  # nothing new is "up to date", not a failure


def test_named_symbols_limit_the_run_and_new_ones_get_their_latest_completed_bar():
    stored = {"SP500": datetime_to_ns(datetime(2018, 6, 29, tzinfo=UTC)), "NASDAQ": 1}
    jobs = daily_jobs(stored, ["SP500", "GOOG"], BarTimeframe.DAY_1, NOW)
    assert [job.symbol for job in jobs] == ["SP500", "GOOG"]
    goog = jobs[1]
    assert goog.latest_only
    assert goog.start == NOW - timedelta(days=14)
    assert goog.if_empty is not None
    assert "no completed 1Day bar in the 14 days before 2018-07-04 12:00 UTC" in goog.if_empty


def test_next_run_is_today_if_still_ahead_otherwise_tomorrow():
    at = dtime(22, 30, tzinfo=UTC)
    assert next_run(datetime(2018, 7, 4, 9, 0, tzinfo=UTC), at) == datetime(
        2018, 7, 4, 22, 30, tzinfo=UTC
    )
    assert next_run(datetime(2018, 7, 4, 22, 30, tzinfo=UTC), at) == datetime(
        2018, 7, 5, 22, 30, tzinfo=UTC
    )


def test_the_schedule_runs_once_a_day_and_survives_a_failed_run():
    """A clock that jumps to each scheduled time: three days, the second run fails."""
    now = [datetime(2018, 7, 4, 12, 0, tzinfo=UTC)]
    stop = threading.Event()
    ran: list[datetime] = []

    class JumpingStop(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            now[0] += timedelta(seconds=timeout or 0)
            return stop.is_set()

    def run_once() -> None:
        ran.append(now[0])
        if len(ran) == 2:
            raise UserError("InfluxDB is down")
        if len(ran) == 3:
            stop.set()

    runs = run_every_day(run_once, dtime(22, 30, tzinfo=UTC), JumpingStop(), lambda: now[0])
    assert runs == 3
    assert ran == [datetime(2018, 7, d, 22, 30, tzinfo=UTC) for d in (4, 5, 6)]
