"""streamlines.demo.jobs: the demo's jobs and their arguments, and the slot check (the cluster's
REST API faked: no Flink needed)."""

from __future__ import annotations

from typing import Any

import pytest

from jobs.currents.options import parse_args as currents_args
from jobs.ripples.options import parse_args as ripples_args
from streamlines.demo import jobs
from streamlines.demo.jobs import demo_jobs, out_of_orderness_s, require_slots
from streamlines.errors import UserError
from streamlines.settings import Settings


def test_the_watermark_bound_follows_the_replay_speed():
    assert out_of_orderness_s(Settings(replay_speed="60")) == 60
    assert out_of_orderness_s(Settings(replay_speed="1")) == 2
    assert out_of_orderness_s(Settings(replay_speed="2.5")) == 3
    assert out_of_orderness_s(Settings(replay_speed="max")) == 600
    live = Settings(replay_speed="60", alpaca_api_key="k", alpaca_secret_key="s")
    assert out_of_orderness_s(live) == 2


def test_both_jobs_read_this_runs_feed_and_currents_reads_no_history():
    settings = Settings(graphql_currents_topic="my.currents", ingest_topic_bars="my.bars")
    ripples, currents = demo_jobs(settings, 1_700_000_000_000)
    r = ripples_args(list(ripples.args))
    assert (r.from_time_ms, r.out_of_orderness_s) == (1_700_000_000_000, 60)
    assert ripples.flink_name == f"ripples {r.trades_topic} {r.quotes_topic}"
    c = currents_args(list(currents.args))
    assert (c.from_time_ms, c.out_of_orderness_s) == (1_700_000_000_000, 60)
    # The history has its own runs (streamlines.demo.history): in this job its watermark would
    # wait for the replay's clock.
    assert c.history_topic is None
    assert (c.live_topic, c.output_topic) == ("my.bars", "my.currents")
    assert not c.bounded
    assert currents.flink_name == "currents my.bars"  # jobs.currents.job.job_name


class FakeRest:
    """Stands in for the cluster's REST API: ``/overview`` with so many free slots."""

    def __init__(self, free: int) -> None:
        self.free = free

    def __call__(self, method: str, url: str, **_: Any) -> dict[str, Any]:
        assert url.endswith("/overview")
        return {"slots-available": self.free}


def test_a_missing_task_slot_is_named_before_a_job_waits_for_it(monkeypatch):
    settings = Settings()
    needed = demo_jobs(settings, 1)
    monkeypatch.setattr(jobs, "request_json", FakeRest(1))
    with pytest.raises(UserError, match=r"1 free task slot\(s\) and the demo needs 2") as info:
        require_slots(settings, needed, {"someone's job": "abc"})
    assert "someone's job" in str(info.value)
    assert "STREAMLINES_FLINK_TASKMANAGER_SLOTS" in (info.value.hint or "")
    require_slots(settings, needed[1:], {})  # one job, one slot

    def not_asked(*_: Any, **__: Any) -> None:
        pytest.fail("the cluster was asked although every job runs already")

    monkeypatch.setattr(jobs, "request_json", not_asked)
    require_slots(settings, [], {})
