"""The live predictions subscription on a hub fed in-process (the real feed:
tests/integration/graphql_server/models)."""

from __future__ import annotations

import asyncio

from graphql_server.models.live import PredictionsHub
from streamlines.contracts.events import Prediction
from tests.support.graphql import DAY, DAY_T0, subscribe

MODEL = "goog-gql-20240101T000000-abcdef"
OTHER = "goog-gql-20240102T000000-abcdef"
FIELDS = "{ symbol modelId tNs timeframe horizon value }"


def prediction(model: str, t_ns: int, value: float) -> Prediction:
    return Prediction(symbol="GOOG", t_ns=t_ns, model_id=model, timeframe="1Day", horizon=5,
                      value=value)  # fmt: skip


def test_the_latest_prediction_first_then_updates_of_the_model_asked_for() -> None:
    async def scenario() -> list[dict]:
        hub = PredictionsHub()
        hub.publish([prediction(MODEL, DAY_T0, 0.4), prediction(MODEL, DAY_T0 + DAY, 0.6),
                     prediction(OTHER, DAY_T0, 0.1)], live=False)  # fmt: skip
        stream = await subscribe(
            f'subscription {{ predictions(symbols: ["GOOG"], modelId: "{MODEL}") {FIELDS} }}',
            {PredictionsHub: hub},
        )
        first = await asyncio.wait_for(anext(stream), 2)
        hub.publish([prediction(OTHER, DAY_T0 + 2 * DAY, 0.2),
                     prediction(MODEL, DAY_T0 + 2 * DAY, 0.7)])  # fmt: skip
        second = await asyncio.wait_for(anext(stream), 2)
        await stream.aclose()
        return [first.data["predictions"], second.data["predictions"]]

    first, second = asyncio.run(scenario())
    assert first == {"symbol": "GOOG", "modelId": MODEL, "tNs": str(DAY_T0 + DAY),
                     "timeframe": "1Day", "horizon": 5, "value": 0.6}  # fmt: skip
    assert (second["tNs"], second["value"]) == (str(DAY_T0 + 2 * DAY), 0.7)


def test_without_a_model_every_models_latest_comes_first() -> None:
    async def scenario() -> list[str]:
        hub = PredictionsHub()
        hub.publish([prediction(MODEL, DAY_T0 + DAY, 0.4), prediction(OTHER, DAY_T0, 0.1)])
        stream = await subscribe(
            f'subscription {{ predictions(symbols: ["GOOG"]) {FIELDS} }}', {PredictionsHub: hub}
        )
        found = [(await asyncio.wait_for(anext(stream), 2)).data["predictions"]["modelId"]
                 for _ in range(2)]  # fmt: skip
        await stream.aclose()
        return found

    assert asyncio.run(scenario()) == [OTHER, MODEL]  # oldest first


def test_bad_arguments_are_messages() -> None:
    async def first_error(query: str) -> str:
        stream = await subscribe(query, {PredictionsHub: PredictionsHub()})
        result = await asyncio.wait_for(anext(stream), 2)
        return result.errors[0].message

    bad_model = 'subscription { predictions(symbols: ["GOOG"], modelId: "../x") { value } }'
    assert "'../x' is not a model id" in asyncio.run(first_error(bad_model))
    bad_symbol = 'subscription { predictions(symbols: ["goog"]) { value } }'
    assert "invalid symbol 'goog'" in asyncio.run(first_error(bad_symbol))
