"""Event time as UTC nanoseconds since the epoch (``t_ns``), and its conversions.

``datetime`` holds microseconds: converting to it drops the last three digits; converting from
it is exact. Times without a zone are taken as UTC (Alpaca's and InfluxDB's convention).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NS_PER_MICROSECOND = 1_000
NS_PER_MILLISECOND = 1_000_000
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 86_400 * NS_PER_SECOND
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# US exchanges' time zone and their regular session's close (announcements after it move the
# next trading day's price).
NEW_YORK = ZoneInfo("America/New_York")
MARKET_CLOSE = time(16)


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a time without a zone is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ns_to_datetime(t_ns: int) -> datetime:
    """The UTC datetime of a nanosecond timestamp, to the microsecond (floored)."""
    return EPOCH + timedelta(microseconds=int(t_ns) // NS_PER_MICROSECOND)


def datetime_to_ns(value: datetime) -> int:
    """Nanoseconds since the epoch of ``value`` (exact, in integers: no float rounding)."""
    delta = utc(value) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1_000


def rfc3339_ns(t_ns: int) -> str:
    """A nanosecond UTC time in RFC 3339 with all nine fraction digits, e.g.
    ``2012-01-03T14:30:00.000000001Z`` (Alpaca's wire format, InfluxDB's delete API)."""
    seconds, nanos = divmod(int(t_ns), NS_PER_SECOND)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def new_york_ns(day: date, at: time) -> int:
    """``at`` on ``day`` in New York (EST or EDT, as on that day), as UTC nanoseconds."""
    return datetime_to_ns(datetime.combine(day, at, NEW_YORK))
