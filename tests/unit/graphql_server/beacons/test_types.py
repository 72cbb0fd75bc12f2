"""The beacons types built from stored rows and live records: columns with nulls, events with
their windows, studies with their history, and the enums matching the contract."""

from datetime import UTC, date, datetime

from graphql_server.beacons.types import (
    BEACON_METRICS,
    BeaconRecord,
    CorporateEvent,
    EventKind,
    EventStudy,
    EventWindow,
    ValuationData,
    study_metric,
)
from graphql_server.flux import Row
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.metrics import EVENT_KINDS, EVENT_WINDOWS
from tests.support.graphql import DAY

T0 = 1_325_548_800_000_000_000  # 2012-01-03T00:00:00Z, a session's daily bar
ANNOUNCED = 1_325_624_400_000_000_000  # 2012-01-03T21:00:00Z = 16:00 New York
EVENT = {"event_t_ns": float(ANNOUNCED), "value": 9.5, "estimate": 9.0, "move": 0.02,
         "return_0_1": 0.03, "index_return_0_1": 0.01, "abnormal_0_1": 0.02,
         "return_m1_5": 0.05}  # fmt: skip


def study(t_ns: int, count: int, mean: float) -> Row:
    values = {"count": float(count), "mean": mean, "median": mean, "min": mean, "max": mean}
    return Row(t_ns, "GOOG", values, metric="event_study_earnings_0_1")


def test_the_enums_name_every_kind_and_window_of_the_contract():
    assert [k.value for k in EventKind] == list(EVENT_KINDS)
    assert [w.value for w in EventWindow] == list(EVENT_WINDOWS)
    assert EventWindow.DAY_MINUS1_TO_5.days == (-1, 5)
    assert EventKind.SPLIT.metric == "event_split"
    assert study_metric(EventKind.EARNINGS, EventWindow.DAY0_TO_1) == "event_study_earnings_0_1"
    assert len(BEACON_METRICS) == 1 + 3 + 3 * 2


def test_valuation_columns_hold_null_where_a_value_is_absent():
    rows = [
        Row(T0, "GOOG", {"close": 665.41, "earnings_ttm": 33.0, "pe": 20.16}),
        Row(T0 + DAY, "GOOG", {"close": 668.28, "earnings_10y": 20, "cape": 33.414}),
    ]
    data = ValuationData.from_rows(rows)
    assert data.date == [date(2012, 1, 3), date(2012, 1, 4)]
    assert data.t_ns == [T0, T0 + DAY]
    assert data.close == [665.41, 668.28]
    assert data.pe == [20.16, None]
    assert data.earnings_10y == [None, 20.0]
    assert isinstance(data.earnings_10y[1], float)
    assert data.dividend_yield == [None, None]
    assert ValuationData.from_rows([]).close == []


def test_an_event_has_its_day0_time_and_every_window_in_order():
    event = CorporateEvent.from_row(Row(T0 + DAY, "GOOG", EVENT, metric="event_earnings"))
    assert (event.kind, event.day0, event.t_ns) == (EventKind.EARNINGS, date(2012, 1, 4), T0 + DAY)
    assert event.event_time == datetime(2012, 1, 3, 21, tzinfo=UTC)
    assert (event.value, event.estimate, event.move) == (9.5, 9.0, 0.02)
    first, second = event.windows
    assert (first.window, first.from_day, first.to_day) == (EventWindow.DAY0_TO_1, 0, 1)
    assert (first.return_, first.index_return, first.abnormal) == (0.03, 0.01, 0.02)
    assert (second.window, second.from_day, second.to_day) == (EventWindow.DAY_MINUS1_TO_5, -1, 5)
    assert (second.return_, second.index_return, second.abnormal) == (0.05, None, None)


def test_a_dividend_without_estimate_or_moves_yet_is_all_nulls_but_its_value():
    row = Row(T0, "GOOG", {"event_t_ns": float(T0 + 5 * 3600 * 10**9), "value": 0.5},
              metric="event_dividend")  # fmt: skip
    event = CorporateEvent.from_row(row)
    assert (event.kind, event.value, event.estimate, event.move) == (
        EventKind.DIVIDEND, 0.5, None, None,
    )  # fmt: skip
    assert [(w.return_, w.abnormal) for w in event.windows] == [(None, None), (None, None)]


def test_a_study_is_its_latest_record_with_the_history_oldest_first_only_when_asked():
    latest_first = [study(T0 + 2 * DAY, 3, 0.01), study(T0 + DAY, 2, 0.02), study(T0, 1, 0.03)]
    found = EventStudy.from_rows(
        "GOOG", EventKind.EARNINGS, EventWindow.DAY0_TO_1, latest_first, history=True
    )
    assert found is not None
    assert (found.as_of, found.count, found.mean, found.std, found.t_stat) == (
        date(2012, 1, 5), 3, 0.01, None, None,
    )  # fmt: skip
    assert (found.from_day, found.to_day) == (0, 1)
    assert found.history is not None
    assert [(p.as_of.day, p.count) for p in found.history] == [(3, 1), (4, 2), (5, 3)]
    without = EventStudy.from_rows(
        "GOOG", EventKind.EARNINGS, EventWindow.DAY0_TO_1, latest_first[:1], history=False
    )
    assert without is not None
    assert without.history is None
    assert EventStudy.from_rows("GOOG", EventKind.SPLIT, EventWindow.DAY0_TO_1, [], True) is None


def test_a_live_record_reads_as_an_event_or_a_study_only_when_it_is_one():
    event = BeaconRecord.from_record(
        AnalyticsRecord(symbol="GOOG", metric="event_earnings", t_ns=T0, values=EVENT)
    )
    assert event.value("move") == 0.02
    assert event.value("nothing") is None
    assert event.study() is None
    parsed = event.event()
    assert parsed is not None
    assert parsed.windows[0].abnormal == 0.02
    record = AnalyticsRecord(
        symbol="GOOG", metric="event_study_split_m1_5", t_ns=T0,
        values={"count": 1.0, "mean": 0.1, "std": None},
    )  # fmt: skip
    live_study = BeaconRecord.from_record(record).study()
    assert live_study is not None
    assert (live_study.kind, live_study.window, live_study.count, live_study.std) == (
        EventKind.SPLIT, EventWindow.DAY_MINUS1_TO_5, 1, None,
    )  # fmt: skip
    assert BeaconRecord.from_record(record).event() is None
    valuation = AnalyticsRecord(symbol="GOOG", metric="valuation_1Day", t_ns=T0, values={})
    assert BeaconRecord.from_record(valuation).event() is None
