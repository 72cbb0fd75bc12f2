"""The live predictions: the server's hub of Narwhal's predictions (``graphql_server.live``),
keyed by (symbol, model id), fed from the predictions topic (STREAMLINES_PREDICTIONS_TOPIC)."""

from __future__ import annotations

from graphql_server import live
from streamlines.contracts.events import Prediction
from streamlines.settings import Settings


def _model(prediction: Prediction) -> str:
    return prediction.model_id


class PredictionsHub(live.LiveHub[Prediction]):
    """The latest prediction per (symbol, model); subscriptions filter on the model."""

    def __init__(self, queue_size: int = 10_000) -> None:
        super().__init__(_model, queue_size)


def feed(
    hub: PredictionsHub, kafka: Settings | str, topic: str, prime_records: int
) -> live.KafkaFeed[Prediction]:
    """The feed of ``hub`` from the predictions topic."""
    return live.KafkaFeed(hub, kafka, topic, prime_records, Prediction)
