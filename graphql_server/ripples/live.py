"""The live ripples: the server's hub of analytics records (``graphql_server.live``), keyed by
(symbol, metric), fed from the ripples topic (STREAMLINES_GRAPHQL_RIPPLES_TOPIC)."""

from __future__ import annotations

from graphql_server import live
from graphql_server.live import SubscriberTooSlow
from streamlines.contracts.events import AnalyticsRecord
from streamlines.settings import Settings

__all__ = ["LiveHub", "SubscriberTooSlow"]


def _metric(record: AnalyticsRecord) -> str:
    return record.metric


class LiveHub(live.LiveHub[AnalyticsRecord]):
    """The latest analytics record per (symbol, metric); subscriptions filter on metrics."""

    def __init__(self, queue_size: int = 10_000) -> None:
        super().__init__(_metric, queue_size)


def feed(
    hub: LiveHub, kafka: Settings | str, topic: str, prime_records: int
) -> live.KafkaFeed[AnalyticsRecord]:
    """The feed of ``hub`` from an analytics topic."""
    return live.KafkaFeed(hub, kafka, topic, prime_records, AnalyticsRecord)
