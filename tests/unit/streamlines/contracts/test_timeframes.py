"""The bar timeframes: their wire names (Alpaca's) and lengths."""

from __future__ import annotations

from datetime import timedelta

import pytest

from streamlines.contracts.time import NS_PER_SECOND
from streamlines.contracts.timeframes import BarTimeframe


def test_the_names_are_alpacas():
    assert [tf.value for tf in BarTimeframe] == ["1Day", "1Hour", "1Min"]
    assert BarTimeframe("1Min") is BarTimeframe.MINUTE_1
    assert f"rsi_{BarTimeframe.DAY_1}" == "rsi_1Day"  # a StrEnum formats as its value


@pytest.mark.parametrize(
    ("timeframe", "length"),
    [
        (BarTimeframe.DAY_1, timedelta(days=1)),
        (BarTimeframe.HOUR_1, timedelta(hours=1)),
        (BarTimeframe.MINUTE_1, timedelta(minutes=1)),
    ],
)
def test_lengths(timeframe, length):
    assert timeframe.length == length
    assert timeframe.length_ns == int(length.total_seconds()) * NS_PER_SECOND


def test_an_unknown_name_is_refused():
    with pytest.raises(ValueError, match="not a valid BarTimeframe"):
        BarTimeframe("1Week")
