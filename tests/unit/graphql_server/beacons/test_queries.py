"""The beacons queries with InfluxDB faked (the real one: tests/integration): shapes, what
reaches the store, validation and limits."""

from graphql_server.beacons.store import BeaconStore
from graphql_server.flux import Row
from graphql_server.validation import TimeRange
from streamlines.settings import Settings
from tests.support.graphql import DAY, FakeRows, execute

T0 = 1_325_548_800_000_000_000  # 2012-01-03T00:00:00Z


class FakeBeacons(FakeRows):
    def valuation(self, symbol: str, window: TimeRange, max_rows: int) -> list[Row]:
        self.calls.append(("valuation", symbol, window.start_ns, window.end_ns, max_rows))
        return self.rows[:max_rows]

    def events(
        self, symbol: str, metrics: list[str], window: TimeRange, max_rows: int
    ) -> list[Row]:
        self.calls.append(("events", symbol, tuple(metrics), window.start_ns, max_rows))
        return self.rows[:max_rows]

    def latest(self, symbol: str, metric: str, max_rows: int) -> list[Row]:
        self.calls.append(("latest", symbol, metric, max_rows))
        return self.rows[:max_rows]


def run(query: str, store: FakeBeacons, max_points: int = 100, **variables):
    return execute(
        query, {BeaconStore: store}, Settings(graphql_max_points=max_points), **variables
    )


def test_valuation_comes_as_columns_with_nulls():
    store = FakeBeacons(
        [
            Row(T0, "SP500", {"close": 1277.06, "earnings_ttm": 86.95, "pe": 14.69}),
            Row(T0 + DAY, "SP500", {"close": 1277.3, "dividend_ttm": 26.4}),
        ]
    )
    result = run(
        """{ valuation(symbol: "SP500", start: "2012-01-01", end: "2012-02-01") {
             symbol data { date tNs close pe earningsYield dividendTtm earnings10y } } }""",
        store,
    )
    assert result.errors is None, result.errors
    assert result.data["valuation"] == {
        "symbol": "SP500",
        "data": {
            "date": ["2012-01-03", "2012-01-04"],
            "tNs": [str(T0), str(T0 + DAY)],
            "close": [1277.06, 1277.3],
            "pe": [14.69, None],
            "earningsYield": [None, None],
            "dividendTtm": [None, 26.4],
            "earnings10y": [None, None],
        },
    }
    start_ns = T0 - 2 * DAY  # 2012-01-01, naive = UTC; one row more than the limit, to tell
    assert store.calls == [("valuation", "SP500", start_ns, start_ns + 31 * DAY, 101)]


def test_events_of_the_kinds_asked_for_or_all():
    row = Row(T0, "GOOG", {"event_t_ns": float(T0 - 3 * 3600 * 10**9), "value": 9.5,
                           "abnormal_0_1": 0.02}, metric="event_earnings")  # fmt: skip
    store = FakeBeacons([row])
    q = """query($kinds: [EventKind!]) {
             events(symbol: "GOOG", start: "2004-01-01", kinds: $kinds) {
               kind day0 eventTime value estimate
               windows { window fromDay toDay return indexReturn abnormal } } }"""
    result = run(q, store, 100_000, kinds=["EARNINGS", "EARNINGS", "SPLIT"])
    assert result.errors is None, result.errors
    (event,) = result.data["events"]
    assert event["kind"] == "EARNINGS"
    assert event["day0"] == "2012-01-03"
    assert event["eventTime"] == "2012-01-02T21:00:00+00:00"
    assert (event["value"], event["estimate"]) == (9.5, None)
    assert event["windows"] == [
        {"window": "DAY0_TO_1", "fromDay": 0, "toDay": 1, "return": None,
         "indexReturn": None, "abnormal": 0.02},
        {"window": "DAY_MINUS1_TO_5", "fromDay": -1, "toDay": 5, "return": None,
         "indexReturn": None, "abnormal": None},
    ]  # fmt: skip
    run(q, store, 100_000)  # no kinds: every kind
    assert [c[2] for c in store.calls] == [
        ("event_earnings", "event_split"),
        ("event_earnings", "event_dividend", "event_split"),
    ]


def test_an_empty_list_of_kinds_is_refused_with_what_to_do():
    store = FakeBeacons()
    result = run('{ events(symbol: "GOOG", start: "2004-01-01", kinds: []) { kind } }', store)
    assert "no event kinds: pass some, e.g. kinds: [EARNINGS]" in result.errors[0].message
    assert store.calls == []


def test_too_many_rows_or_a_bad_symbol_are_refused_with_messages():
    rows = [Row(T0 + k * DAY, "GOOG", {"close": 1.0}) for k in range(4)]
    too_many = run(
        '{ valuation(symbol: "GOOG", start: "2012-01-01", end: "2012-01-04") { symbol } }',
        FakeBeacons(rows),
        max_points=3,
    )
    assert "more than 3 valuation days in that range" in too_many.errors[0].message
    long = run(
        '{ events(symbol: "GOOG", start: "2012-01-01", end: "2012-02-01") { kind } }',
        FakeBeacons(),
        max_points=10,
    )
    assert "spans 31 1Day bars, more than the 10 one query may ask for" in long.errors[0].message
    bad = run(
        '{ eventStudy(symbol: "goog", kind: EARNINGS, window: DAY0_TO_1) { count } }',
        FakeBeacons(),
    )
    assert "invalid symbol 'goog'" in bad.errors[0].message


def study(k: int) -> Row:
    return Row(T0 + k * DAY, "GOOG", {"count": float(k + 1), "mean": 0.01 * k, "std": 0.5},
               metric="event_study_earnings_m1_5")  # fmt: skip


def test_the_event_study_is_the_latest_record_and_its_history_when_asked():
    store = FakeBeacons([study(2), study(1), study(0)])  # latest first, as the store answers
    q = """query($h: Boolean!) {
             eventStudy(symbol: "GOOG", kind: EARNINGS, window: DAY_MINUS1_TO_5, history: $h) {
               symbol kind window fromDay toDay asOf count mean std tStat
               history { asOf count } } }"""
    latest = run(q, store, h=False)
    assert latest.errors is None, latest.errors
    assert latest.data["eventStudy"] == {
        "symbol": "GOOG", "kind": "EARNINGS", "window": "DAY_MINUS1_TO_5", "fromDay": -1,
        "toDay": 5, "asOf": "2012-01-05", "count": 3, "mean": 0.02, "std": 0.5, "tStat": None,
        "history": None,
    }  # fmt: skip
    history = run(q, store, h=True).data["eventStudy"]["history"]
    assert history == [{"asOf": f"2012-01-0{3 + k}", "count": k + 1} for k in range(3)]
    assert store.calls == [
        ("latest", "GOOG", "event_study_earnings_m1_5", 1),
        ("latest", "GOOG", "event_study_earnings_m1_5", 101),
    ]


def test_no_study_yet_is_null():
    result = run(
        '{ eventStudy(symbol: "GOOG", kind: SPLIT, window: DAY0_TO_1) { count } }', FakeBeacons()
    )
    assert result.errors is None, result.errors
    assert result.data == {"eventStudy": None}


def test_without_a_key_beacons_follow_the_public_data_setting():
    query = '{ valuation(symbol: "GOOG", start: "2012-01-01") { symbol } }'
    services: dict[type, object] = {BeaconStore: FakeBeacons()}
    private = execute(query, services, Settings(graphql_public_data=False), principal=None)
    assert private.errors is not None
    assert private.errors[0].extensions == {"code": "UNAUTHENTICATED"}
    public = execute(query, services, Settings(graphql_public_data=True), principal=None)
    assert public.errors is None, public.errors
