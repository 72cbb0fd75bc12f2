"""The live beacons: the server's hub of the beacons job's records (``graphql_server.live``),
keyed by (symbol, metric), fed from the beacons topic (STREAMLINES_BEACONS_TOPIC)."""

from __future__ import annotations

from graphql_server import live
from streamlines.contracts.events import AnalyticsRecord
from streamlines.settings import Settings


def _metric(record: AnalyticsRecord) -> str:
    return record.metric


class BeaconsHub(live.LiveHub[AnalyticsRecord]):
    """The latest beacons record per (symbol, metric); subscriptions filter on metrics."""

    def __init__(self, queue_size: int = 10_000) -> None:
        super().__init__(_metric, queue_size)


def feed(
    hub: BeaconsHub, kafka: Settings | str, topic: str, prime_records: int
) -> live.KafkaFeed[AnalyticsRecord]:
    """The feed of ``hub`` from the beacons topic."""
    return live.KafkaFeed(hub, kafka, topic, prime_records, AnalyticsRecord)
