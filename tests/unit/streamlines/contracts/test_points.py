"""streamlines.contracts.points: the points written for bars and analytics records."""

from __future__ import annotations

from typing import Any

import pytest

from streamlines.contracts.events import AnalyticsRecord, Fundamental, HistoryBar, SchemaError
from streamlines.contracts.influx import (
    BUCKET_MARKET,
    MEASUREMENT_BUCKETS,
    MEASUREMENT_FUNDAMENTALS,
)
from streamlines.contracts.points import (
    analytics_point,
    bar_line,
    fundamental_point,
    record_points,
)


def _bar(**changes: Any) -> HistoryBar:
    fields: dict[str, Any] = {
        "symbol": "SP500", "t_ns": 1_530_489_600_000_000_000, "timeframe": "1Day",
        "open": 10, "high": 12.25, "low": 9, "close": 11, "volume": 1000, "trade_count": 50,
        "vwap": 10.5, "adj_open": 5, "adj_high": 6.125, "adj_low": 4.5, "adj_close": 5.5,
        "adj_volume": 2000, "adj_factor": 0.5,
    }  # fmt: skip
    return HistoryBar.model_validate(fields | changes)


def test_one_point_per_bar_at_the_bar_start_tagged_by_symbol_and_timeframe():
    assert bar_line(_bar()) == (
        "bars,symbol=SP500,timeframe=1Day "
        "open=10.0,high=12.25,low=9.0,close=11.0,volume=1000.0,vwap=10.5,"
        "adj_open=5.0,adj_high=6.125,adj_low=4.5,adj_close=5.5,adj_volume=2000.0,"
        "adj_factor=0.5,trade_count=50i "
        "1530489600000000000"
    )


def test_unknown_values_are_left_out_and_known_corporate_actions_written():
    text = bar_line(_bar(vwap=None, trade_count=None, dividend=0.25, split_factor=2))
    assert "vwap" not in text
    assert "trade_count" not in text
    assert ",dividend=0.25,split_factor=2.0 " in text


def test_floats_keep_every_digit_and_tags_are_escaped():
    text = bar_line(_bar(symbol="BTC/USD", close=11.000000000000002, volume=0.1 + 0.2))
    assert text.startswith("bars,symbol=BTC/USD,timeframe=1Day ")
    assert "close=11.000000000000002," in text
    assert "volume=0.30000000000000004," in text
    odd = _bar(timeframe="1 Day,x=y")
    assert bar_line(odd).startswith("bars,symbol=SP500,timeframe=1\\ Day\\,x\\=y ")


def test_a_record_becomes_one_point_at_its_own_time():
    record = AnalyticsRecord.from_wire(
        b'{"symbol":"GOOG","metric":"bar_1m","t_ns":1325601060000000000,'
        b'"values":{"open":665.03,"close":666.5,"count":12,"vwap":null}}'
    )
    line = analytics_point(record, "ripples").to_line_protocol()
    assert line == (
        "ripples,metric=bar_1m,symbol=GOOG close=666.5,count=12i,open=665.03 1325601060000000000"
    )


def test_a_per_bar_currents_record_becomes_a_point_per_family_with_a_known_value():
    payload = (
        b'{"symbol":"GOOG","metric":"indicators_1Day","t_ns":1325601060000000000,'
        b'"values":{"sma.sma_20":2.5,"sma.sma_50":null,"rsi.rsi_14":null,"macd.macd":0.25}}'
    )
    lines = [p.to_line_protocol() for p in record_points(payload, "currents")]
    assert lines == [
        "currents,metric=sma_1Day,symbol=GOOG sma_20=2.5 1325601060000000000",
        "currents,metric=macd_1Day,symbol=GOOG macd=0.25 1325601060000000000",
    ]
    with pytest.raises(SchemaError, match="values: 'sma_20' in an indicators record"):
        record_points(payload.replace(b"sma.sma_20", b"sma_20"), "currents")


def _fundamental(**changes: Any) -> Fundamental:
    fields: dict[str, Any] = {
        "symbol": "GOOG", "t_ns": 1_098_316_800_000_000_000, "fact": "earnings_announcement",
        "value": 0.02, "source": "HistoricalEarningsData",
    }  # fmt: skip
    return Fundamental.model_validate(fields | changes)


def test_a_fundamental_is_one_point_at_the_time_it_is_valid_from():
    line = fundamental_point(_fundamental()).to_line_protocol()
    assert line == (
        "fundamentals,fact=earnings_announcement,symbol=GOOG revision=0i,"
        'source="HistoricalEarningsData",value=0.02 1098316800000000000'
    )


def test_fundamental_optional_fields_and_types_are_stable():
    line = fundamental_point(
        _fundamental(fact="shares_outstanding", value=274_000_000, estimate=3, period_end_ns=7)
    ).to_line_protocol()
    # Without the "i" suffix, 3 and 274000000 are float fields in line protocol.
    assert line == (
        "fundamentals,fact=shares_outstanding,symbol=GOOG estimate=3,period_end_ns=7i,"
        'revision=0i,source="HistoricalEarningsData",value=274000000 1098316800000000000'
    )


def test_a_rewritten_fundamental_lands_on_the_same_series_and_time():
    first = fundamental_point(_fundamental(value=0.02, source="a")).to_line_protocol()
    again = fundamental_point(_fundamental(value=0.03, source="b")).to_line_protocol()
    assert first.split(" ")[0] == again.split(" ")[0]  # same measurement and tags
    assert first.rsplit(" ", 1)[1] == again.rsplit(" ", 1)[1]  # same timestamp
    assert MEASUREMENT_BUCKETS[MEASUREMENT_FUNDAMENTALS] == BUCKET_MARKET
