"""The beacons queries and subscription on the real InfluxDB and Kafka: records as the beacons job
writes them (measurement beacons, topic analytics.beacons) come back through a real server as
columns, typed events and studies, and live."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest

from graphql_server.client import GraphQLClientError, query, subscribe
from streamlines.contracts.events import AnalyticsRecord

DAY = 86_400 * 10**9
OCT_21 = 1_098_316_800_000_000_000  # 2004-10-21T00:00:00Z: the session's daily bar
OCT_22 = OCT_21 + DAY
ANNOUNCED = 1_098_388_800_000_000_000  # 2004-10-21T16:00 New York, after the close


def valuation(t_ns: int, **values: float | None) -> AnalyticsRecord:
    return AnalyticsRecord(symbol="GOOG", metric="valuation_1Day", t_ns=t_ns, values=values)


def earnings(**values: float | None) -> AnalyticsRecord:
    base: dict[str, float | None] = {
        "event_t_ns": float(ANNOUNCED), "value": 0.0175, "estimate": 0.0143, "move": 0.1518,
        "return_0_1": 0.1664, "index_return_0_1": -0.0091, "abnormal_0_1": 0.1755,
        "return_m1_5": None, "index_return_m1_5": None, "abnormal_m1_5": None,
    }  # fmt: skip
    return AnalyticsRecord(
        symbol="GOOG", metric="event_earnings", t_ns=OCT_22, values=base | values
    )


def study(t_ns: int, count: int, mean: float, std: float | None) -> AnalyticsRecord:
    t_stat = None if std is None else mean / (std / count**0.5)
    values = {"count": float(count), "mean": mean, "median": mean, "std": std, "min": mean,
              "max": mean, "t_stat": t_stat}  # fmt: skip
    return AnalyticsRecord(
        symbol="GOOG", metric="event_study_earnings_0_1", t_ns=t_ns, values=values
    )


def test_valuation_comes_back_as_columns_with_nulls_for_the_range_asked(store_beacons, server):
    store_beacons(
        [
            valuation(OCT_21 - DAY, close=141.0),  # before start
            valuation(OCT_21, close=149.38, earnings_ttm=1.47, pe=101.62, earnings_yield=0.0098),
            valuation(OCT_22, close=172.43),  # no fundamentals known: ratios absent
            valuation(OCT_22 + 3 * DAY, close=187.4),  # at end: left out
            earnings(),  # another metric at the same time
        ]
    )
    found = query(
        server,
        """query($s: String!, $a: DateTime!, $b: DateTime) {
             valuation(symbol: $s, start: $a, end: $b) {
               symbol
               data { date tNs close pe earningsYield dividendYield cape earningsTtm } } }""",
        {"s": "GOOG", "a": "2004-10-21T00:00:00Z", "b": "2004-10-25T00:00:00Z"},
    )["valuation"]
    assert found == {
        "symbol": "GOOG",
        "data": {
            "date": ["2004-10-21", "2004-10-22"],
            "tNs": [str(OCT_21), str(OCT_22)],
            "close": [149.38, 172.43],
            "pe": [101.62, None],
            "earningsYield": [0.0098, None],
            "dividendYield": [None, None],
            "cape": [None, None],
            "earningsTtm": [1.47, None],
        },
    }


def test_events_are_typed_with_their_windows_and_a_rewrite_replaces_them(store_beacons, server):
    dividend = AnalyticsRecord(
        symbol="GOOG", metric="event_dividend", t_ns=OCT_22 + 7 * DAY,
        values={"event_t_ns": float(OCT_22 + 7 * DAY + 4 * 3600 * 10**9), "value": 0.5},
    )  # fmt: skip
    store_beacons([earnings(), dividend])
    # later, once the bars of day +5 exist, the job publishes the event again
    store_beacons([earnings(return_m1_5=0.2351, index_return_m1_5=0.0102, abnormal_m1_5=0.2249)])
    document = """query($kinds: [EventKind!]) {
      events(symbol: "GOOG", start: "2004-01-01", end: "2005-01-01", kinds: $kinds) {
        symbol kind day0 tNs eventTime value estimate move
        windows { window fromDay toDay return indexReturn abnormal } } }"""
    every = query(server, document)["events"]
    assert [(e["kind"], e["day0"]) for e in every] == [
        ("EARNINGS", "2004-10-22"),
        ("DIVIDEND", "2004-10-29"),
    ]
    first = every[0]
    assert first["tNs"] == str(OCT_22)
    assert first["eventTime"] == "2004-10-21T20:00:00+00:00"
    assert (first["value"], first["estimate"], first["move"]) == (0.0175, 0.0143, 0.1518)
    assert first["windows"] == [
        {"window": "DAY0_TO_1", "fromDay": 0, "toDay": 1, "return": 0.1664,
         "indexReturn": -0.0091, "abnormal": 0.1755},
        {"window": "DAY_MINUS1_TO_5", "fromDay": -1, "toDay": 5, "return": 0.2351,
         "indexReturn": 0.0102, "abnormal": 0.2249},
    ]  # fmt: skip
    assert (every[1]["estimate"], every[1]["windows"][0]["abnormal"]) == (None, None)
    only = query(server, document, {"kinds": ["DIVIDEND", "SPLIT"]})["events"]
    assert [e["kind"] for e in only] == ["DIVIDEND"]


def test_the_event_study_is_the_latest_record_with_its_history(store_beacons, server):
    store_beacons(
        [
            study(OCT_22, 1, 0.1755, None),
            study(OCT_22 + 91 * DAY, 2, 0.09, 0.1202),
            study(OCT_22 + 182 * DAY, 3, 0.0712, 0.0951),
        ]
    )
    document = """query($h: Boolean!) {
      eventStudy(symbol: "GOOG", kind: EARNINGS, window: DAY0_TO_1, history: $h) {
        kind window fromDay toDay asOf count mean median std min max tStat
        history { asOf count std tStat } } }"""
    latest = query(server, document, {"h": False})["eventStudy"]
    assert latest == {
        "kind": "EARNINGS", "window": "DAY0_TO_1", "fromDay": 0, "toDay": 1,
        "asOf": "2005-04-22", "count": 3, "mean": 0.0712, "median": 0.0712, "std": 0.0951,
        "min": 0.0712, "max": 0.0712, "tStat": pytest.approx(0.0712 / (0.0951 / 3**0.5)),
        "history": None,
    }  # fmt: skip
    history = query(server, document, {"h": True})["eventStudy"]["history"]
    assert [(h["asOf"], h["count"], h["std"]) for h in history] == [
        ("2004-10-22", 1, None),
        ("2005-01-21", 2, 0.1202),
        ("2005-04-22", 3, 0.0951),
    ]
    assert history[0]["tStat"] is None
    other = query(
        server, '{ eventStudy(symbol: "GOOG", kind: SPLIT, window: DAY0_TO_1) { count } }'
    )
    assert other == {"eventStudy": None}


def test_bad_requests_get_messages(server):
    with pytest.raises(GraphQLClientError, match=r"invalid symbol 'goog'.*such as GOOG"):
        query(server, '{ valuation(symbol: "goog", start: "2004-01-01") { symbol } }')
    with pytest.raises(GraphQLClientError, match="is not after start"):
        query(server, '{ events(symbol: "GOOG", start: "2005-01-01", end: "2004-01-01") { kind } }')
    with pytest.raises(GraphQLClientError, match=r"no event kinds: pass some"):
        query(server, '{ events(symbol: "GOOG", start: "2004-01-01", kinds: []) { kind } }')


def wait_for_beacons_received(url: str, count: int, timeout: float = 30.0) -> None:
    """Until the server's beacons feed has read ``count`` records (its /healthz says)."""
    deadline = time.monotonic() + timeout
    health: dict = {}
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url.replace("/graphql", "/healthz"), timeout=5) as answer:
            health = json.loads(answer.read())
        if health["beacons_received"] >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"the server's beacons feed did not read {count} records: {health}")


def test_the_subscription_starts_with_the_latest_record_then_streams_what_the_job_publishes(
    publish_beacons, server
):
    publish_beacons([valuation(OCT_21, close=149.38), valuation(OCT_22, close=172.43)])
    wait_for_beacons_received(server, 2)
    document = """subscription { beacons(symbols: ["GOOG"]) {
      symbol metric tNs close: value(name: "close")
      event { kind day0 windows { window abnormal } } } }"""

    async def scenario() -> list[dict]:
        received: list[dict] = []
        stream = subscribe(server, document)
        async for data in stream:
            received.append(data["beacons"])
            if len(received) == 1:
                await asyncio.to_thread(publish_beacons, [earnings()])
            if len(received) == 2:
                break
        await stream.aclose()
        return received

    latest, event = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert latest == {"symbol": "GOOG", "metric": "valuation_1Day", "tNs": str(OCT_22),
                      "close": 172.43, "event": None}  # fmt: skip
    assert event["metric"] == "event_earnings"
    assert event["event"] == {
        "kind": "EARNINGS",
        "day0": "2004-10-22",
        "windows": [
            {"window": "DAY0_TO_1", "abnormal": 0.1755},
            {"window": "DAY_MINUS1_TO_5", "abnormal": None},
        ],
    }
