"""jobs.narwhal.topics: which input topics a run reads, and what it refuses."""

from __future__ import annotations

import pytest

from jobs.narwhal.options import Options
from jobs.narwhal.topics import present_topics
from streamlines.errors import UserError

ALL = {"market.bars.history", "market.bars", "analytics.currents"}


def test_every_topic_there_is_read():
    opts = Options(bootstrap="k:1")
    assert present_topics(opts, ALL) == (opts, [])


def test_a_missing_history_topic_is_left_out_with_a_warning():
    opts, warnings = present_topics(Options(bootstrap="k:1"), ALL - {"market.bars.history"})
    assert opts.history_topic is None
    assert opts.live_topic == "market.bars"
    assert warnings == ["history topic market.bars.history does not exist: left out"]


def test_a_missing_live_topic_is_left_out_of_a_bounded_run_only():
    opts, warnings = present_topics(Options(bootstrap="k:1", bounded=True), ALL - {"market.bars"})
    assert opts.live_topic is None
    assert len(warnings) == 1
    with pytest.raises(UserError, match=r"live topic market\.bars does not exist"):
        present_topics(Options(bootstrap="k:1"), ALL - {"market.bars"})


def test_no_bars_or_no_indicators_is_an_error():
    with pytest.raises(UserError, match="neither bars topic exists"):
        present_topics(Options(bootstrap="k:1", bounded=True), {"analytics.currents"})
    with pytest.raises(
        UserError, match=r"indicators topic analytics\.currents does not exist"
    ) as e:
        present_topics(Options(bootstrap="k:1"), ALL - {"analytics.currents"})
    assert "currents job" in str(e.value)
