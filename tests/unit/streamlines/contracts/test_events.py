from __future__ import annotations

import json

import pytest

from streamlines.contracts.events import (
    FUNDAMENTAL_FACTS,
    Bar,
    Fundamental,
    HistoryBar,
    Quote,
    SchemaError,
    Trade,
    fundamental_conflict,
    fundamental_problem,
)
from streamlines.contracts.topics import dead_letter_topic


def test_trade_round_trips_through_the_wire_format():
    trade = Trade(symbol="BTC/USD", t_ns=1_700_000_000_123_456_789, price=37000.5, size=0.0125)
    assert Trade.from_wire(trade.to_wire()) == trade
    assert trade.key() == b"BTC/USD"
    assert trade.time.isoformat() == "2023-11-14T22:13:20.123456+00:00"


def test_invalid_messages_name_every_bad_field():
    with pytest.raises(SchemaError) as info:
        Trade.from_wire(b'{"symbol": "aapl", "t_ns": -5, "price": 0}')
    reason = info.value.reason
    assert reason.startswith("invalid trade:")
    for field in ("symbol", "t_ns", "price", "size"):
        assert f"{field}:" in reason


def test_not_json_is_a_schema_error():
    with pytest.raises(SchemaError, match="invalid quote"):
        Quote.from_wire(b"\x81\xa1T")


def test_unknown_fields_are_refused():
    with pytest.raises(SchemaError, match="surprise: Extra inputs are not permitted"):
        Trade.from_wire(b'{"symbol":"A","t_ns":1,"price":1,"size":1,"surprise":1}')


def test_bar_range_must_contain_open_and_close():
    with pytest.raises(SchemaError, match="low <= open, close <= high"):
        Bar.from_wire(b'{"symbol":"A","t_ns":1,"open":5,"high":4,"low":3,"close":4,"volume":1}')
    bar = Bar(symbol="A", t_ns=1, open=4, high=5, low=3, close=4.5, volume=10)
    assert Bar.from_wire(bar.to_wire()) == bar


def test_dead_letter_topic_name():
    assert dead_letter_topic("market.trades") == "market.trades.dlq"


def _history_bar(**changes: object) -> HistoryBar:
    fields: dict[str, object] = {
        "symbol": "SP500", "t_ns": 1_530_403_200_000_000_000, "timeframe": "1Day",
        "open": 10, "high": 12, "low": 9, "close": 11, "volume": 100,
        "adj_open": 5, "adj_high": 6, "adj_low": 4.5, "adj_close": 5.5, "adj_volume": 200,
        "adj_factor": 0.5,
    }  # fmt: skip
    return HistoryBar.model_validate(fields | changes)


def test_history_bar_goes_to_the_history_topic_and_round_trips():
    bar = _history_bar()
    assert HistoryBar.topic == "market.bars.history"
    assert HistoryBar.from_wire(bar.to_wire()) == bar
    assert bar.key() == b"SP500"
    # Unknown corporate actions stay unknown on the wire: absent, not 0 or 1.
    assert b"dividend" not in bar.to_wire()
    assert b"split_factor" not in bar.to_wire()


def test_history_bar_adjusted_range_must_contain_adjusted_open_and_close():
    with pytest.raises(SchemaError, match="adj_low <= adj_open, adj_close <= adj_high"):
        HistoryBar.from_dict(_history_bar().model_dump() | {"adj_close": 7})
    with pytest.raises(SchemaError, match="split_factor"):
        HistoryBar.from_dict(_history_bar().model_dump() | {"split_factor": 0})


_NOW_NS = 1_700_000_000_000_000_000
_ANNOUNCED_NS = 1_098_316_800_000_000_000  # 2004-10-21, GOOG's first earnings announcement


def _fundamental_wire(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "symbol": "GOOG", "t_ns": _ANNOUNCED_NS, "fact": "earnings_announcement",
        "value": 0.02, "source": "HistoricalEarningsData",
    }  # fmt: skip
    return json.dumps({k: v for k, v in (fields | changes).items() if v is not None}).encode()


def test_fundamental_round_trips_through_the_wire_format():
    full = Fundamental(
        symbol="GOOG", t_ns=_ANNOUNCED_NS, fact="earnings_announcement", value=-0.5,
        source="HistoricalEarningsData", estimate=0.01, period_end_ns=_ANNOUNCED_NS - 1,
    )  # fmt: skip
    assert Fundamental.from_wire(full.to_wire()) == full
    assert Fundamental.topic == "market.fundamentals"
    assert dead_letter_topic(Fundamental.topic) == "market.fundamentals.dlq"
    short = Fundamental.from_wire(_fundamental_wire(fact="split", value=2))
    assert short.estimate is None
    assert short.period_end_ns is None
    assert b"estimate" not in short.to_wire()
    assert Fundamental.from_wire(short.to_wire()) == short


def test_fundamental_facts_are_a_closed_set():
    assert set(FUNDAMENTAL_FACTS) == {
        "earnings_ttm", "dividend_ttm", "earnings_10y", "sales_ttm", "shares_outstanding",
        "earnings_announcement", "dividend", "split",
    }  # fmt: skip
    for fact in FUNDAMENTAL_FACTS:
        assert fundamental_problem(_fundamental_wire(fact=fact, value=1.5), _NOW_NS) is None


def test_a_good_fundamental_has_no_problem():
    assert fundamental_problem(_fundamental_wire(), _NOW_NS) is None
    assert fundamental_problem(_fundamental_wire(), _ANNOUNCED_NS) is None  # valid from now on
    earnings_loss = _fundamental_wire(fact="earnings_ttm", value=-3.25)
    assert fundamental_problem(earnings_loss, _NOW_NS) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"source": None}, "source: Field required"),
        ({"value": None}, "value: Field required"),
        ({"fact": "pe_ratio"}, "fact: Input should be 'earnings_ttm'"),
        ({"symbol": "goog"}, "symbol: Value error, symbol must be upper case"),
        ({"value": "NaN"}, "value: Input should be a finite number"),
        ({"value": "Infinity"}, "value: Input should be a finite number"),
        ({"estimate": "-Infinity"}, "estimate: Input should be a finite number"),
        ({"fact": "shares_outstanding", "value": -1e9}, "shares_outstanding must be positive"),
        ({"fact": "split", "value": 0}, "value of split must be positive"),
        ({"fact": "dividend", "value": -0.1}, "dividend must not be negative"),
        ({"period_end_ns": _ANNOUNCED_NS + 1}, "period_end_ns is after t_ns"),
        ({"t_ns": _NOW_NS + 1}, f"t_ns: {_NOW_NS + 1} is after now ({_NOW_NS})"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_a_bad_fundamental_says_why(changes, reason):
    problem = fundamental_problem(_fundamental_wire(**changes), _NOW_NS)
    assert problem is not None
    assert problem.startswith("invalid fundamental: ")
    assert reason in problem


def test_a_fundamental_that_is_not_json_says_why():
    problem = fundamental_problem(b"\x81\xa1T", _NOW_NS)
    assert problem is not None
    assert problem.startswith("invalid fundamental: ")


def _fundamental(**fields: object) -> Fundamental:
    return Fundamental.from_wire(_fundamental_wire(**fields))


def test_a_higher_revision_restates_a_fundamental():
    known = _fundamental(value=10.0)
    assert fundamental_conflict(known, _fundamental(value=11.0, revision=1)) is None


def test_the_same_revision_may_repeat_the_same_value_only():
    known = _fundamental(value=10.0)
    assert fundamental_conflict(known, _fundamental(value=10.0)) is None
    reason = fundamental_conflict(known, _fundamental(value=11.0))
    assert reason is not None
    assert reason.startswith("conflicting duplicate")
    assert "higher revision" in reason


def test_an_older_revision_is_stale():
    known = _fundamental(value=11.0, revision=2)
    reason = fundamental_conflict(known, _fundamental(value=10.0, revision=1))
    assert reason is not None
    assert reason.startswith("stale fundamental")


def test_a_negative_revision_is_refused():
    reason = fundamental_problem(_fundamental_wire(revision=-1), _NOW_NS)
    assert reason is not None
    assert "revision" in reason
