"""The analytics sink: which records it takes, and the measurement it writes them as."""

from __future__ import annotations

import pytest

from connectors.sinks.analytics import measurement_for
from streamlines.contracts.events import AnalyticsRecord, SchemaError
from streamlines.errors import UserError


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


def test_measurement_is_the_contracts_or_the_one_given():
    assert measurement_for("analytics.ripples") == "ripples"
    assert measurement_for("analytics.currents") == "currents"
    assert measurement_for("analytics.predictions") == "predictions"
    assert measurement_for("t-abc.ripples", "ripples") == "ripples"
    with pytest.raises(UserError, match=r"'t-abc\.ripples' is not a known analytics topic") as info:
        measurement_for("t-abc.ripples")
    assert info.value.hint == "name it: --measurement ripples (or currents, beacons, predictions)"
