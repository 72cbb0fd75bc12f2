"""The live beacons subscription on a hub fed in-process (the real feed: tests/integration)."""

import asyncio

from graphql_server.beacons.live import BeaconsHub
from graphql_server.subscription_slots import SubscriptionSlots
from streamlines.contracts.events import AnalyticsRecord
from streamlines.settings import Settings
from tests.support.graphql import subscribe

T0 = 1_325_548_800_000_000_000  # 2012-01-03T00:00:00Z
DOCUMENT = """subscription { beacons(symbols: ["GOOG"]%s) {
                symbol metric tNs close: value(name: "close")
                event { kind windows { abnormal } } study { count } } }"""


def record(metric: str, t_ns: int, **values: float) -> AnalyticsRecord:
    return AnalyticsRecord(symbol="GOOG", metric=metric, t_ns=t_ns, values=values)


def test_the_latest_record_first_then_updates_of_the_metrics_asked_for():
    async def scenario() -> list[dict]:
        hub = BeaconsHub()
        hub.publish([record("valuation_1Day", T0, close=665.41),
                     record("event_earnings", T0, abnormal_0_1=0.02)])  # fmt: skip
        stream = await subscribe(
            DOCUMENT % ', metrics: ["valuation_1Day", "event_study_earnings_0_1"]',
            {BeaconsHub: hub},
        )
        first = await asyncio.wait_for(anext(stream), 2)
        hub.publish([record("event_earnings", T0 + 1, abnormal_0_1=0.03),  # not asked for
                     record("event_study_earnings_0_1", T0, count=1.0, mean=0.02)])  # fmt: skip
        second = await asyncio.wait_for(anext(stream), 2)
        await stream.aclose()
        return [r.data["beacons"] for r in (first, second)]

    first, second = asyncio.run(scenario())
    assert first == {"symbol": "GOOG", "metric": "valuation_1Day", "tNs": str(T0),
                     "close": 665.41, "event": None, "study": None}  # fmt: skip
    assert second["metric"] == "event_study_earnings_0_1"
    assert second["study"] == {"count": 1}


def test_all_metrics_without_a_filter_and_events_read_as_events():
    async def scenario() -> dict:
        hub = BeaconsHub()
        hub.publish([record("event_earnings", T0, abnormal_0_1=0.02)])
        stream = await subscribe(DOCUMENT % "", {BeaconsHub: hub})
        first = await asyncio.wait_for(anext(stream), 2)
        await stream.aclose()
        return first.data["beacons"]

    assert asyncio.run(scenario())["event"] == {
        "kind": "EARNINGS",
        "windows": [{"abnormal": 0.02}, {"abnormal": None}],
    }


async def first_error(
    document: str, settings: Settings | None = None, services: dict[type, object] | None = None
):
    stream = await subscribe(
        document, {BeaconsHub: BeaconsHub(), **(services or {})}, settings, principal=None
    )
    try:
        result = await asyncio.wait_for(anext(stream), 0.5)
    except TimeoutError:
        return None  # open, waiting for data
    finally:
        await stream.aclose()
    return result.errors[0]


def test_unknown_metrics_and_bad_symbols_are_refused_with_what_to_do():
    unknown = asyncio.run(first_error(DOCUMENT % ', metrics: ["bar_1m"]'))
    assert "unknown beacons metric 'bar_1m': use one of valuation_1Day, event_earnings" in (
        unknown.message
    )
    empty = asyncio.run(first_error(DOCUMENT % ", metrics: []"))
    assert "no metrics: pass some" in empty.message
    bad = asyncio.run(first_error(DOCUMENT.replace('"GOOG"', '"goog"') % ""))
    assert "invalid symbol 'goog'" in bad.message


def test_without_a_key_beacons_follow_the_public_data_setting():
    private = asyncio.run(first_error(DOCUMENT % "", Settings(graphql_public_data=False)))
    assert private.extensions == {"code": "UNAUTHENTICATED"}
    assert asyncio.run(first_error(DOCUMENT % "", Settings(graphql_public_data=True))) is None


def test_a_beacons_subscription_takes_one_of_the_clients_slots():
    assert (
        asyncio.run(first_error(DOCUMENT % "", services={SubscriptionSlots: SubscriptionSlots(1)}))
        is None
    )
    full = asyncio.run(
        first_error(DOCUMENT % "", services={SubscriptionSlots: SubscriptionSlots(0)})
    )
    assert "already has 0 subscriptions open" in full.message
