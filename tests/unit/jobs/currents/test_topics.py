"""jobs.currents.topics: missing input topics left out, or an error (no Flink or Kafka
needed)."""

from __future__ import annotations

import pytest

from jobs.currents.options import Options
from jobs.currents.sql import bars_all_view, source_ddl
from jobs.currents.topics import present_topics
from streamlines.contracts.topics import TOPIC_BARS, TOPIC_BARS_HISTORY
from streamlines.errors import UserError


def test_a_missing_history_topic_is_left_out():
    opts, warnings = present_topics(Options(bootstrap="k:1"), {TOPIC_BARS})
    assert opts.history_topic is None
    assert opts.live_topic == TOPIC_BARS
    assert warnings == [f"history topic {TOPIC_BARS_HISTORY} does not exist: left out"]
    assert len(source_ddl(opts)) == 1
    assert "bars_history" not in bars_all_view(opts)


def test_a_missing_live_topic_is_an_error_unless_bounded():
    with pytest.raises(UserError, match="live topic"):
        present_topics(Options(bootstrap="k:1"), {TOPIC_BARS_HISTORY})
    opts, _ = present_topics(Options(bootstrap="k:1", bounded=True), {TOPIC_BARS_HISTORY})
    assert opts.live_topic is None
    with pytest.raises(UserError, match="neither"):
        present_topics(Options(bootstrap="k:1", bounded=True), set())
