"""Alpaca timeframes and their buckets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from connectors.replay.timeframe import AlpacaTimeframe, AlpacaTimeframeError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1Min", AlpacaTimeframe(1, "Min")),
        ("15T", AlpacaTimeframe(15, "Min")),
        ("4Hour", AlpacaTimeframe(4, "Hour")),
        ("1Day", AlpacaTimeframe(1, "Day")),
        ("1Week", AlpacaTimeframe(1, "Week")),
        ("3Month", AlpacaTimeframe(3, "Month")),
    ],
)
def test_parse(text, expected):
    assert AlpacaTimeframe.parse(text) == expected


@pytest.mark.parametrize("text", ["", "0Min", "60Min", "24Hour", "2Day", "5Month", "1Year"])
def test_invalid_timeframes_say_what_is_allowed(text):
    with pytest.raises(AlpacaTimeframeError, match="invalid timeframe"):
        AlpacaTimeframe.parse(text)


def _ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def test_buckets():
    t = np.array([_ns("2012-01-05T14:37:12.5")], dtype=np.int64)  # a Thursday
    assert AlpacaTimeframe(15, "Min").bucket_starts(t)[0] == _ns("2012-01-05T14:30")
    assert AlpacaTimeframe(4, "Hour").bucket_starts(t)[0] == _ns("2012-01-05T12:00")
    assert AlpacaTimeframe(1, "Day").bucket_starts(t)[0] == _ns("2012-01-05")
    assert AlpacaTimeframe(1, "Week").bucket_starts(t)[0] == _ns("2012-01-02")  # Monday
    assert AlpacaTimeframe(1, "Month").bucket_starts(t)[0] == _ns("2012-01-01")
    august = np.array([_ns("2012-08-20")], dtype=np.int64)
    assert AlpacaTimeframe(6, "Month").bucket_starts(august)[0] == _ns("2012-07-01")
