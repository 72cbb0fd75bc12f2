"""The shared scalars refuse what they cannot hold with a clear GraphQL error: DateTime outside
the stores' nanosecond range (or past what ``datetime`` holds in UTC), BigInt outside 64 bits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from strawberry.exceptions import StrawberryInputCoercionError

from graphql_server.ripples.live import LiveHub
from graphql_server.ripples.store import AnalyticsStore
from graphql_server.scalars import parse_big_int, parse_datetime
from tests.support.graphql import FakeRipplesStore, execute


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2012-01-03T14:30:00Z", datetime(2012, 1, 3, 14, 30, tzinfo=UTC)),
        ("2012-01-03", datetime(2012, 1, 3)),
        ("1678-01-01T00:00:00Z", datetime(1678, 1, 1, tzinfo=UTC)),
        ("2261-12-31T23:59:59.999999", datetime(2261, 12, 31, 23, 59, 59, 999_999)),
    ],
)
def test_a_time_the_stores_can_hold_is_parsed(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+23:59",  # before year 1 in UTC: datetime overflows
        "9999-12-31T23:59:59-23:59",  # after year 9999 in UTC
        "1677-09-21T00:12:43Z",  # before InfluxDB's first nanosecond
        "2262-04-12T00:00:00Z",  # after its last
        "2012-13-45",
        "",
        '") |> drop()',
    ],
)
def test_a_time_outside_the_stores_range_or_not_a_time_is_refused(text: str) -> None:
    with pytest.raises(StrawberryInputCoercionError, match="Value cannot represent a DateTime"):
        parse_datetime(text)


def test_a_time_out_of_range_is_a_clear_error_of_the_query() -> None:
    services = {AnalyticsStore: FakeRipplesStore(), LiveHub: LiveHub()}
    result = execute(
        '{ ripples(symbol: "GOOG", metric: BAR_1M, start: "0001-01-01T00:00:00+23:59", '
        'end: "2012-01-03T00:00:00Z") { tNs } }',
        services,
    )
    (error,) = result.errors or []
    assert "from 1678-01-01 to 2262-01-01 (UTC" in error.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1325601000000000000", 1_325_601_000_000_000_000), (-5, -5), (str(2**63 - 1), 2**63 - 1)],
)
def test_a_64_bit_integer_is_parsed(value: object, expected: int) -> None:
    assert parse_big_int(value) == expected


@pytest.mark.parametrize("value", [str(2**63), 2**63, "1e9", "1_000", "", "x", True, 1.5, None])
def test_anything_else_is_not_a_big_int(value: object) -> None:
    with pytest.raises(StrawberryInputCoercionError, match="Value cannot represent a BigInt"):
        parse_big_int(value)


def test_a_long_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(StrawberryInputCoercionError) as refused:
        parse_datetime("2012" * 2_500)
    assert "(10,000 characters). An ISO 8601 time is shorter" in refused.value.message
    assert len(refused.value.message) < 300
