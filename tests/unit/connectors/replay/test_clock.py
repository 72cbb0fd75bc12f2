"""The shared replay clock: pace, and skipping idle gaps only when every connection waits."""

from __future__ import annotations

import pytest

from connectors.replay import clock as clock_module
from connectors.replay.clock import IDLE_SKIP_NS, SKIP_LEAD_NS, ReplayClock

S = 1_000_000_000


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The monotonic wall clock the replay clock reads; tests move it by hand."""
    now = [100.0]
    monkeypatch.setattr(clock_module.time, "monotonic", lambda: now[0])
    return now


def test_replay_time_runs_at_the_speed(wall):
    clock = ReplayClock(60.0, origin_ns=1_000 * S)
    wall[0] += 2.0
    assert clock.now() == 1_120 * S
    assert clock.wall_seconds_until(1_180 * S) == pytest.approx(1.0)
    assert clock.wall_seconds_until(1_000 * S) == 0.0


def test_one_member_skips_a_long_gap_to_just_before_its_next_event(wall):
    clock = ReplayClock(1.0, origin_ns=0)
    a = clock.join()
    clock.next_event(a, IDLE_SKIP_NS // 2)  # near: no skip
    assert clock.now() == 0
    clock.next_event(a, 10 * IDLE_SKIP_NS)
    assert clock.now() == 10 * IDLE_SKIP_NS - SKIP_LEAD_NS


def test_no_skip_while_another_member_has_events_before_the_gap_ends(wall):
    clock = ReplayClock(1.0, origin_ns=0)
    a, b = clock.join(), clock.join()
    clock.next_event(a, 10 * IDLE_SKIP_NS)
    clock.next_event(b, 5 * S)
    assert clock.now() == 0  # b still sends in the gap a waits through
    clock.next_event(b, 20 * IDLE_SKIP_NS)  # b is through its events too
    assert clock.now() == 10 * IDLE_SKIP_NS - SKIP_LEAD_NS  # to the earliest next event


def test_a_member_with_nothing_to_send_or_gone_does_not_hold_the_clock(wall):
    clock = ReplayClock(1.0, origin_ns=0)
    a, b, c = clock.join(), clock.join(), clock.join()
    clock.next_event(b, None)  # waits for its subscription to change
    clock.next_event(c, 5 * S)
    clock.next_event(a, 10 * IDLE_SKIP_NS)
    assert clock.now() == 0
    clock.leave(c)
    assert clock.now() == 10 * IDLE_SKIP_NS - SKIP_LEAD_NS
    assert clock.members == 2
