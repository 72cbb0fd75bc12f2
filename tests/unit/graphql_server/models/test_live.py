"""The predictions hub keys by (symbol, model id)."""

from __future__ import annotations

from graphql_server.models.live import PredictionsHub, feed
from streamlines.contracts.events import Prediction


def test_the_hub_keeps_the_latest_prediction_per_symbol_and_model() -> None:
    hub = PredictionsHub(queue_size=3)
    hub.publish(
        [Prediction(symbol="GOOG", t_ns=t, model_id=m, timeframe="1Day", horizon=5, value=t / 10)
         for t, m in [(1, "a"), (3, "a"), (2, "b")]],
        live=False,
    )  # fmt: skip
    assert {k: p.t_ns for k, p in hub.latest.items()} == {("GOOG", "a"): 3, ("GOOG", "b"): 2}
    assert hub.queue_size == 3


def test_the_feed_reads_predictions_from_the_topic_it_is_given() -> None:
    hub = PredictionsHub()
    made = feed(hub, "127.0.0.1:9092", "t.predictions", 50)
    assert (made.hub, made.topic, made.prime_records, made.record_type) == (
        hub,
        "t.predictions",
        50,
        Prediction,
    )
