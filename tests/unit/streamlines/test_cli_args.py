"""streamlines.cli_args: times and symbol lists as the commands parse them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streamlines.cli_args import parse_symbols, parse_time
from streamlines.errors import UserError


def test_times_are_utc_dates_or_times():
    assert parse_time("2012-01-03", "--start") == datetime(2012, 1, 3, tzinfo=UTC)
    assert parse_time("2012-01-03T14:30:00Z", "--end") == datetime(2012, 1, 3, 14, 30, tzinfo=UTC)
    assert parse_time("2012-01-03T09:30:00-05:00", "--end") == datetime(
        2012, 1, 3, 14, 30, tzinfo=UTC
    )
    with pytest.raises(UserError, match="--start 'yesterday' is not a date or time"):
        parse_time("yesterday", "--start")


def test_symbols_are_upper_case_and_unique():
    assert parse_symbols(" goog, btc/usd,GOOG,, ") == ["GOOG", "BTC/USD"]
