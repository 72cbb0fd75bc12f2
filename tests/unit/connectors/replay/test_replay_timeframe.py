"""Alpaca timeframes and their buckets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from connectors.replay.timeframe import Timeframe, TimeframeError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1Min", Timeframe(1, "Min")),
        ("15T", Timeframe(15, "Min")),
        ("4Hour", Timeframe(4, "Hour")),
        ("1Day", Timeframe(1, "Day")),
        ("1Week", Timeframe(1, "Week")),
        ("3Month", Timeframe(3, "Month")),
    ],
)
def test_parse(text, expected):
    assert Timeframe.parse(text) == expected


@pytest.mark.parametrize("text", ["", "0Min", "60Min", "24Hour", "2Day", "5Month", "1Year"])
def test_invalid_timeframes_say_what_is_allowed(text):
    with pytest.raises(TimeframeError, match="invalid timeframe"):
        Timeframe.parse(text)


def _ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def test_buckets():
    t = np.array([_ns("2012-01-05T14:37:12.5")], dtype=np.int64)  # a Thursday
    assert Timeframe(15, "Min").bucket_starts(t)[0] == _ns("2012-01-05T14:30")
    assert Timeframe(4, "Hour").bucket_starts(t)[0] == _ns("2012-01-05T12:00")
    assert Timeframe(1, "Day").bucket_starts(t)[0] == _ns("2012-01-05")
    assert Timeframe(1, "Week").bucket_starts(t)[0] == _ns("2012-01-02")  # Monday
    assert Timeframe(1, "Month").bucket_starts(t)[0] == _ns("2012-01-01")
    august = np.array([_ns("2012-08-20")], dtype=np.int64)
    assert Timeframe(6, "Month").bucket_starts(august)[0] == _ns("2012-07-01")
