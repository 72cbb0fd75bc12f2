"""Nanosecond event time: exact conversions (checked against pandas), RFC 3339 with nine
fraction digits, and UTC for times with and without a zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from streamlines.contracts.time import (
    EPOCH,
    NS_PER_DAY,
    NS_PER_MICROSECOND,
    NS_PER_MILLISECOND,
    NS_PER_MINUTE,
    NS_PER_SECOND,
    datetime_to_ns,
    ns_to_datetime,
    rfc3339_ns,
    utc,
)

TIMES_NS = [
    0,
    1,
    999,
    1_000,
    1_325_601_000_000_000_001,  # 2012-01-03T14:30:00.000000001Z
    1_709_562_600_123_456_789,
    4_102_444_799_999_999_999,  # 2099-12-31T23:59:59.999999999Z
    -1,  # before the epoch: floored, as everywhere
    -86_400_000_000_123,
]


def test_the_constants():
    assert NS_PER_MICROSECOND * 1_000 == NS_PER_MILLISECOND
    assert NS_PER_MILLISECOND * 1_000 == NS_PER_SECOND
    assert NS_PER_MINUTE == 60 * NS_PER_SECOND
    assert NS_PER_DAY == 24 * 60 * NS_PER_MINUTE
    assert datetime(1970, 1, 1, tzinfo=UTC) == EPOCH


@pytest.mark.parametrize("t_ns", TIMES_NS)
def test_ns_to_datetime_is_the_time_to_the_microsecond_floored(t_ns):
    expected = pd.Timestamp(t_ns, unit="ns", tz="UTC").floor("us").to_pydatetime()
    assert ns_to_datetime(t_ns) == expected
    assert ns_to_datetime(t_ns).tzinfo is UTC


@pytest.mark.parametrize("t_ns", TIMES_NS)
def test_the_round_trip_keeps_the_microseconds_and_drops_the_rest(t_ns):
    assert datetime_to_ns(ns_to_datetime(t_ns)) == t_ns - t_ns % NS_PER_MICROSECOND


@pytest.mark.parametrize(
    "value",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2012, 1, 3, 14, 30, 0, 1, tzinfo=UTC),
        datetime(2024, 3, 4, 9, 30, 0, 999_999, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1969, 7, 20, 20, 17, 40, 123_456, tzinfo=UTC),
        datetime(2262, 4, 11, 23, 47, 16, 854_775, tzinfo=UTC),  # near int64 ns's end
    ],
)
def test_datetime_to_ns_is_exact(value):
    """Integer arithmetic, not float seconds (which lose the last digits after 2004)."""
    assert datetime_to_ns(value) == pd.Timestamp(value).value


def test_datetime_to_ns_takes_a_time_without_a_zone_as_utc():
    naive = datetime(2012, 1, 3, 14, 30, 0, 250_000)
    assert datetime_to_ns(naive) == pd.Timestamp(naive, tz="UTC").value


@pytest.mark.parametrize("t_ns", [t for t in TIMES_NS if t >= 0])
def test_rfc3339_ns_has_nine_fraction_digits(t_ns):
    stamp = pd.Timestamp(t_ns, unit="ns", tz="UTC")
    reference = f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.value % NS_PER_SECOND:09d}Z"
    assert rfc3339_ns(t_ns) == reference
    assert pd.Timestamp(rfc3339_ns(t_ns)).value == t_ns


def test_rfc3339_ns_example():
    assert rfc3339_ns(1_325_601_000_000_000_001) == "2012-01-03T14:30:00.000000001Z"
    assert rfc3339_ns(0) == "1970-01-01T00:00:00.000000000Z"


def test_utc_takes_a_naive_time_as_utc():
    naive = datetime(2024, 3, 4, 14, 30)
    assert utc(naive) == datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
    assert utc(naive).tzinfo is UTC


def test_utc_converts_an_aware_time():
    new_york = timezone(timedelta(hours=-5))
    aware = datetime(2024, 3, 4, 9, 30, tzinfo=new_york)
    converted = utc(aware)
    assert converted == aware
    assert converted.tzinfo is UTC
    assert (converted.hour, converted.minute) == (14, 30)
