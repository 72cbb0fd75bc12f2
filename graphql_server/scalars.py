"""Scalars and enums every part of the schema shares: ``BigInt`` (64-bit integers such as
nanosecond times), ``DateTime`` (strawberry's, limited to the times the stores can hold) and
``BarTimeframe`` (the contract's timeframes of stored bars).

A value a scalar refuses raises ``StrawberryInputCoercionError`` (a GraphQLError): the client
gets its message; any other exception would be an internal error."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import NewType

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from graphql_server.downsample import Downsample
from graphql_server.validation import shown
from streamlines.contracts.time import utc
from streamlines.contracts.timeframes import BarTimeframe

__all__ = ["SCALARS", "BarTimeframe", "BigInt"]

BigInt = NewType("BigInt", int)
_BIG_INT = re.compile(r"-?[0-9]{1,19}")
INT64 = range(-(2**63), 2**63)

# InfluxDB keeps signed 64-bit nanoseconds (1677-09-21 to 2262-04-11 UTC): a time outside
# would overflow on its way to a store, or in the arithmetic before.
EARLIEST = datetime(1678, 1, 1, tzinfo=UTC)
LATEST = datetime(2262, 1, 1, tzinfo=UTC)
# The longest ISO 8601 time, with nanoseconds and an offset, has 35 characters.
MAX_DATETIME_CHARS = 64


def parse_big_int(value: object) -> int:
    """A 64-bit integer from an integer or its decimal string."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _BIG_INT.fullmatch(value.strip()):
        number = int(value)
    if number is None or number not in INT64:
        raise StrawberryInputCoercionError(
            f"Value cannot represent a BigInt: {shown(str(value))}. Use a 64-bit integer, as a "
            'decimal string such as "1325601000000000000"'
        )
    return number


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 time (strawberry's parser) in the range the stores hold."""
    if isinstance(value, str) and len(value) > MAX_DATETIME_CHARS:
        raise _not_a_datetime(value, "An ISO 8601 time is shorter")
    parsed: datetime = DateTimeDefinition.parse_value(value)  # type: ignore[misc]
    try:
        inside = EARLIEST <= utc(parsed) < LATEST
    except OverflowError:  # year 1 ahead of UTC, year 9999 behind it
        inside = False
    if not inside:
        raise _not_a_datetime(
            value,
            f"Use a time from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC; the range of the "
            "stores' nanosecond times)",
        )
    return parsed


def _not_a_datetime(value: object, why: str) -> StrawberryInputCoercionError:
    return StrawberryInputCoercionError(
        f"Value cannot represent a DateTime: {shown(str(value))}. {why}, e.g. "
        '"2012-01-03T14:30:00Z"'
    )


SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=str,
        parse_value=parse_big_int,
        description="A 64-bit integer as a decimal string (GraphQL's Int has 32 bits), e.g. "
        "nanoseconds since the epoch.",
    ),
    datetime: strawberry.scalar(
        name=DateTimeDefinition.name,
        serialize=datetime.isoformat,
        parse_value=parse_datetime,
        description=DateTimeDefinition.description,
    ),
}

# The contract's enum, made a GraphQL enum in place (values by member name: DAY_1, HOUR_1,
# MINUTE_1): the schema's parts import it from here, so it is registered before they use it.
strawberry.enum(BarTimeframe, name="BarTimeframe", description="Bar length of gathered history.")


strawberry.enum(
    Downsample,
    name="Downsample",
    description="How `series(maxPoints:)` and `indicators(maxPoints:)` pick the bars they "
    "keep (whole bars, by their close; bars without a close are never picked). LTTB: "
    "Largest-Triangle-Three-Buckets, the first "
    "and last bar and from each of maxPoints - 2 equal buckets the one forming the largest "
    "triangle with its neighbours: the shape of a line. MINMAX: from each of maxPoints / 2 equal "
    "buckets the bars with the lowest and the highest close, in time order: every extreme.",
)
