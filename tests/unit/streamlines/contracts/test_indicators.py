"""streamlines.contracts.indicators: the currents job's per-bar record and its expansion into
the records of its families."""

from __future__ import annotations

import pytest

from streamlines.contracts.events import AnalyticsRecord, SchemaError
from streamlines.contracts.indicators import compact_values, expand, indicators_metric


def per_bar(values: dict) -> AnalyticsRecord:
    return AnalyticsRecord(symbol="GOOG", t_ns=5, metric=indicators_metric("1Day"), values=values)


def test_a_per_bar_record_expands_into_its_families_with_a_known_value_in_family_order():
    values = compact_values(
        [
            ("bollinger", {"middle": 2.0, "upper": 3.0, "lower": 1.0, "std": 0.5}),
            ("sma", {"sma_20": 2.0, "sma_50": None}),
            ("macd", {"macd": None, "signal": None, "histogram": None}),
            ("rsi", {"rsi_14": 55.0}),
        ]
    )
    assert values["bollinger.upper"] == 3.0
    assert values["sma.sma_50"] is None
    records = expand(per_bar(values))
    assert [r.metric for r in records] == ["sma_1Day", "rsi_1Day", "bollinger_1Day"]
    assert records[0].values == {"sma_20": 2.0, "sma_50": None}  # nulls within a family stay
    assert all((r.symbol, r.t_ns) == ("GOOG", 5) for r in records)


def test_other_records_are_themselves():
    crossover = AnalyticsRecord(symbol="GOOG", t_ns=5, metric="cross_sma50_sma200_1Day",
                                values={"signal": 1.0})  # fmt: skip
    assert expand(crossover) == [crossover]


def test_a_key_without_its_family_is_a_schema_error():
    with pytest.raises(SchemaError, match="'upper' in an indicators record"):
        expand(per_bar({"upper": 1.0}))
