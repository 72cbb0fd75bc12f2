"""The dashboard benchmark's record → page matching: each forming-bar change is timed from the
latest record it includes, once, and changes no record explains are left out."""

from __future__ import annotations

import pytest

from benchmarks.dashboard import record_to_page_ms

MINUTE = 1_325_601_000_000  # ms


def test_each_change_is_timed_once_from_the_latest_record_it_includes() -> None:
    log = [(MINUTE, 100.0, 1_000.0), (MINUTE, 250.0, 1_010.0), (MINUTE + 60_000, 40.0, 1_020.0)]
    changes = [
        {"at": 1_004.5, "t": MINUTE, "volume": 100.0},
        {"at": 1_030.0, "t": MINUTE, "volume": 250.0},
        {"at": 1_031.0, "t": MINUTE, "volume": 250.0},  # the same bar redrawn: not a new move
        {"at": 1_050.0, "t": MINUTE + 60_000, "volume": 40.0},
    ]
    assert record_to_page_ms(changes, log) == pytest.approx([4.5, 20.0, 30.0])


def test_changes_no_record_explains_are_left_out() -> None:
    log = [(MINUTE, 100.0, 1_000.0)]
    changes = [
        {"at": 990.0, "t": MINUTE - 60_000, "volume": 7.0},  # a bar from the history
        {"at": 1_002.0, "t": MINUTE, "volume": 99.0},  # a volume the records never summed to
        {"at": 1_003.0, "t": MINUTE, "volume": 100.0 + 1e-9},  # the page's float sum
    ]
    assert record_to_page_ms(changes, log) == pytest.approx([3.0])
