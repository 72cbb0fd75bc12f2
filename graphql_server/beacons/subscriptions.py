"""The live beacons subscription: the beacons job's records as it publishes them."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.beacons.live import BeaconsHub
from graphql_server.beacons.types import BEACON_METRICS, BeaconRecord
from graphql_server.context import service
from graphql_server.errors import QueryError
from graphql_server.fanout import shared
from graphql_server.live import SubscriberTooSlow


def beacon_metrics(values: list[str] | None) -> list[str] | None:
    """The metrics asked for (None: all), each one the beacons job writes."""
    if values is None:
        return None
    if not values:
        raise QueryError('no metrics: pass some, e.g. metrics: ["valuation_1Day"], or leave '
                         "metrics out for all")  # fmt: skip
    for value in values:
        if value not in BEACON_METRICS:
            raise QueryError(
                f"unknown beacons metric {validation.shown(value)}: use one of "
                f"{', '.join(BEACON_METRICS)}"
            )
    return list(dict.fromkeys(values))


@strawberry.type
class BeaconsSubscription:
    @strawberry.subscription(
        description="Live beacons records of these symbols (all metrics, or those in "
        "`metrics`: valuation_1Day, event_<kind>, event_study_<kind>_<window>): first the latest "
        "record the server has of each symbol and metric, then every record as the beacons job "
        "publishes it."
    )
    async def beacons(
        self, info: Info, symbols: list[str], metrics: list[str] | None = None
    ) -> AsyncGenerator[BeaconRecord, None]:
        public_read(info)
        wanted = validation.symbols(symbols)
        names = beacon_metrics(metrics)
        try:
            async for record in service(info, BeaconsHub).subscribe(wanted, names):
                yield shared(record, BeaconRecord.from_record)
        except SubscriberTooSlow as exc:
            raise QueryError(str(exc)) from None
