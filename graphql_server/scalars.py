"""Scalars and enums every part of the schema shares: ``BigInt`` (64-bit integers such as
nanosecond times) and ``BarTimeframe`` (the contract's timeframes of stored bars)."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from streamlines.contracts.timeframes import BarTimeframe

__all__ = ["SCALARS", "BarTimeframe", "BigInt"]

BigInt = NewType("BigInt", int)

SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=str,
        parse_value=int,
        description="A 64-bit integer as a decimal string (GraphQL's Int has 32 bits), e.g. "
        "nanoseconds since the epoch.",
    )
}

# The contract's enum, made a GraphQL enum in place (values by member name: DAY_1, HOUR_1,
# MINUTE_1): the schema's parts import it from here, so it is registered before they use it.
strawberry.enum(BarTimeframe, name="BarTimeframe", description="Bar length of gathered history.")
