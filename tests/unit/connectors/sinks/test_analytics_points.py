from __future__ import annotations

import pytest

from connectors.sinks.analytics import measurement_for, record_point
from streamlines.contracts.events import AnalyticsRecord, SchemaError


def test_a_record_becomes_one_point_at_its_own_time():
    record = AnalyticsRecord.from_wire(
        b'{"symbol":"GOOG","metric":"bar_1m","t_ns":1325601060000000000,'
        b'"values":{"open":665.03,"close":666.5,"count":12,"vwap":null}}'
    )
    line = record_point(record, "ripples").to_line_protocol()
    assert line == (
        "ripples,metric=bar_1m,symbol=GOOG close=666.5,count=12i,open=665.03 1325601060000000000"
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"symbol":"GOOG","t_ns":1,"values":{}}', "metric: Field required"),
        (b'{"symbol":"GOOG","metric":"x","t_ns":1,"values":{"a":"high"}}', "values.a"),
        (b"not json", "invalid analytics record"),
    ],
)
def test_bad_records_say_why(payload, reason):
    with pytest.raises(SchemaError, match=reason):
        AnalyticsRecord.from_wire(payload)


def test_measurement_is_the_job_name():
    assert measurement_for("analytics.ripples") == "ripples"
    assert measurement_for("t-abc.ripples") == "ripples"
