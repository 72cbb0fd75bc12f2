"""The live currents: the server's hub of the currents job's records (``graphql_server.live``),
keyed by (symbol, metric), fed from the currents topic (STREAMLINES_GRAPHQL_CURRENTS_TOPIC):
indicators (each per-bar record as the records of its families), crossover signals and
volatility rounds."""

from __future__ import annotations

from graphql_server import live
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.indicators import expand
from streamlines.settings import Settings


def _metric(record: AnalyticsRecord) -> str:
    return record.metric


class CurrentsHub(live.LiveHub[AnalyticsRecord]):
    """The latest currents record per (symbol, metric); subscriptions filter on metrics."""

    def __init__(self, queue_size: int = 10_000) -> None:
        super().__init__(_metric, queue_size)


def feed(
    hub: CurrentsHub, kafka: Settings | str, topic: str, prime_records: int
) -> live.KafkaFeed[AnalyticsRecord]:
    """The feed of ``hub`` from the currents topic."""
    return live.KafkaFeed(hub, kafka, topic, prime_records, AnalyticsRecord, expand)
