"""The live predictions subscription on a hub fed in-process (the real feed:
tests/integration/graphql_server/models)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from graphql_server.fanout import SharedResults
from graphql_server.models.catalog import ModelCatalog
from graphql_server.models.live import PredictionsHub
from ml.models import ModelRecord, UnknownModel
from streamlines.contracts.events import Prediction
from streamlines.metadata.accounts import Principal
from streamlines.settings import Settings
from tests.support.graphql import ALICE, BOB, DAY, DAY_T0, ROOT, subscribe
from tests.unit.graphql_server.models.conftest import Metadata

MODEL = "goog-gql-20240101T000000-abcdef"
OTHER = "goog-gql-20240102T000000-abcdef"
FIELDS = "{ symbol modelId tNs timeframe horizon value }"


class KnownModels(ModelCatalog):
    """A model store holding MODEL and OTHER (records only: all the subscription reads)."""

    def __init__(self) -> None:
        super().__init__(Settings())

    def get(self, model_id: str) -> ModelRecord:
        if model_id not in (MODEL, OTHER):
            raise UnknownModel(f"unknown model {model_id!r}")
        return ModelRecord(model_id, "goog-gql", datetime.now(UTC), {}, "", {})


def services(hub: PredictionsHub, metadata: Metadata) -> dict[type, object]:
    return {PredictionsHub: hub, ModelCatalog: KnownModels(), **metadata.services()}


def prediction(model: str, t_ns: int, value: float) -> Prediction:
    return Prediction(symbol="GOOG", t_ns=t_ns, model_id=model, timeframe="1Day", horizon=5,
                      value=value)  # fmt: skip


def test_the_latest_prediction_first_then_updates_of_the_model_asked_for(
    metadata: Metadata,
) -> None:
    async def scenario() -> list[dict]:
        hub = PredictionsHub()
        hub.publish([prediction(MODEL, DAY_T0, 0.4), prediction(MODEL, DAY_T0 + DAY, 0.6),
                     prediction(OTHER, DAY_T0, 0.1)], live=False)  # fmt: skip
        stream = await subscribe(
            f'subscription {{ predictions(symbols: ["GOOG"], modelId: "{MODEL}") {FIELDS} }}',
            services(hub, metadata),
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


def test_without_a_model_every_models_latest_comes_first(metadata: Metadata) -> None:
    async def scenario() -> list[str]:
        hub = PredictionsHub()
        hub.publish([prediction(MODEL, DAY_T0 + DAY, 0.4), prediction(OTHER, DAY_T0, 0.1)])
        stream = await subscribe(
            f'subscription {{ predictions(symbols: ["GOOG"]) {FIELDS} }}',
            services(hub, metadata),
        )
        found = [(await asyncio.wait_for(anext(stream), 2)).data["predictions"]["modelId"]
                 for _ in range(2)]  # fmt: skip
        await stream.aclose()
        return found

    assert asyncio.run(scenario()) == [OTHER, MODEL]  # oldest first


def test_bad_arguments_are_messages(metadata: Metadata) -> None:
    async def first_error(query: str) -> str:
        stream = await subscribe(query, services(PredictionsHub(), metadata))
        result = await asyncio.wait_for(anext(stream), 2)
        return result.errors[0].message

    bad_model = 'subscription { predictions(symbols: ["GOOG"], modelId: "../x") { value } }'
    assert "'../x' is not a model id" in asyncio.run(first_error(bad_model))
    bad_symbol = 'subscription { predictions(symbols: ["goog"]) { value } }'
    assert "invalid symbol 'goog'" in asyncio.run(first_error(bad_symbol))


def test_a_private_models_predictions_reach_only_its_owner_and_admins(metadata: Metadata) -> None:
    metadata.ownership.record_model(MODEL, ALICE.user_id)  # OTHER stays shared

    async def models_seen(principal: Principal | None) -> list[tuple[str, float]]:
        hub = PredictionsHub()
        hub.publish([prediction(MODEL, DAY_T0, 0.4), prediction(OTHER, DAY_T0 + DAY, 0.1)],
                    live=False)  # fmt: skip
        stream = await subscribe(
            f'subscription {{ predictions(symbols: ["GOOG"]) {FIELDS} }}',
            services(hub, metadata),
            Settings(graphql_public_data=True),
            principal,
        )
        seen = []
        for _ in range(2 if principal in (ALICE, ROOT) else 1):
            point = (await asyncio.wait_for(anext(stream), 2)).data["predictions"]
            seen.append((point["modelId"], point["value"]))
            if len(seen) == 1:
                hub.publish([prediction(MODEL, DAY_T0 + 2 * DAY, 0.7),
                             prediction(OTHER, DAY_T0 + 2 * DAY, 0.2)])  # fmt: skip
        point = (await asyncio.wait_for(anext(stream), 2)).data["predictions"]
        seen.append((point["modelId"], point["value"]))
        await stream.aclose()
        return seen

    everything = [(MODEL, 0.4), (OTHER, 0.1), (MODEL, 0.7)]
    assert asyncio.run(models_seen(ALICE)) == everything
    assert asyncio.run(models_seen(ROOT)) == everything
    assert asyncio.run(models_seen(BOB)) == [(OTHER, 0.1), (OTHER, 0.2)]
    assert asyncio.run(models_seen(None)) == [(OTHER, 0.1), (OTHER, 0.2)]


def test_an_unknown_or_deleted_models_predictions_are_not_sent(metadata: Metadata) -> None:
    gone = "goog-gql-20240103T000000-abcdef"

    async def scenario() -> list[str]:
        hub = PredictionsHub()
        hub.publish([prediction(gone, DAY_T0, 0.3), prediction(MODEL, DAY_T0 + DAY, 0.4)])
        stream = await subscribe(
            f'subscription {{ predictions(symbols: ["GOOG"]) {FIELDS} }}', services(hub, metadata)
        )
        first = (await asyncio.wait_for(anext(stream), 2)).data["predictions"]["modelId"]
        await stream.aclose()
        return [first]

    assert asyncio.run(scenario()) == [MODEL]


def test_someone_elses_model_id_is_as_silent_as_an_unknown_one(metadata: Metadata) -> None:
    metadata.ownership.record_model(MODEL, ALICE.user_id)
    unknown = "goog-gql-20240103T000000-abcdef"

    async def first(model_id: str) -> object:
        hub = PredictionsHub()
        hub.publish([prediction(MODEL, DAY_T0, 0.4)], live=False)
        stream = await subscribe(
            f'subscription {{ predictions(symbols: ["GOOG"], modelId: "{model_id}") {FIELDS} }}',
            services(hub, metadata),
            principal=BOB,
        )
        hub.publish([prediction(MODEL, DAY_T0 + DAY, 0.5)])
        try:
            return (await asyncio.wait_for(anext(stream), 0.3)).data
        except TimeoutError:
            return "nothing"
        finally:
            await stream.aclose()

    assert asyncio.run(first(MODEL)) == asyncio.run(first(unknown)) == "nothing"


def test_without_a_key_predictions_need_public_data(metadata: Metadata) -> None:
    async def first_error() -> str:
        stream = await subscribe(
            'subscription { predictions(symbols: ["GOOG"]) { value } }',
            services(PredictionsHub(), metadata),
            Settings(graphql_public_data=False),
            None,
        )
        result = await asyncio.wait_for(anext(stream), 2)
        return result.errors[0].message

    assert "this needs an API key" in asyncio.run(first_error())


def test_with_shared_execution_each_key_still_sees_only_its_models(metadata: Metadata) -> None:
    """Alice's and Bob's subscriptions of one selection share the execution of a prediction
    both may see; Alice's private model's never reaches Bob."""
    metadata.ownership.record_model(MODEL, ALICE.user_id)  # OTHER stays shared
    hub = PredictionsHub()
    results = SharedResults()
    shared_services = {**services(hub, metadata), SharedResults: results}
    document = f'subscription {{ predictions(symbols: ["GOOG"]) {FIELDS} }}'

    async def scenario() -> dict[str, list[tuple[str, float]]]:
        streams = {
            p.name: await subscribe(document, shared_services, Settings(), p) for p in (ALICE, BOB)
        }
        firsts = {name: asyncio.ensure_future(anext(s)) for name, s in streams.items()}
        await asyncio.sleep(0.05)
        hub.publish([prediction(MODEL, DAY_T0, 0.4), prediction(OTHER, DAY_T0, 0.1),
                     prediction(MODEL, DAY_T0 + DAY, 0.7),
                     prediction(OTHER, DAY_T0 + DAY, 0.2)])  # fmt: skip
        seen: dict[str, list[tuple[str, float]]] = {}
        for name, stream in streams.items():
            points = [(await asyncio.wait_for(firsts[name], 2)).data["predictions"]]
            try:
                while True:
                    points.append((await asyncio.wait_for(anext(stream), 0.3)).data["predictions"])
            except TimeoutError:
                pass
            await stream.aclose()
            seen[name] = [(p["modelId"], p["value"]) for p in points]
        return seen

    seen = asyncio.run(scenario())
    assert seen == {
        ALICE.name: [(MODEL, 0.4), (OTHER, 0.1), (MODEL, 0.7), (OTHER, 0.2)],
        BOB.name: [(OTHER, 0.1), (OTHER, 0.2)],
    }
    # OTHER's two predictions executed once for both; MODEL's for Alice alone
    assert (results.counters.executed, results.counters.reused) == (4, 2)
