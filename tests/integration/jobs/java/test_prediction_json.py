"""PredictionJson (jobs/java), the scalar function that writes the narwhal job's prediction
records: its bytes are the JSON of ``Prediction`` with every double read back exactly, strings
escaped where they must be, and a value that is not finite written as null (refused by
``Prediction.from_wire``, so a consumer dead-letters it). Run on a local mini-cluster."""

from __future__ import annotations

import json

import pytest

from jobs.common.functions import PREDICTION_JSON_DDL
from streamlines.contracts.events import Prediction, SchemaError
from tests.support.flink_sql import collect_sql

# Doubles whose shortest decimal is easy to get wrong: the smallest subnormal, the largest
# finite, 17 significant digits, zero, and an exponent on each side.
VALUES = [
    "0.1", "5e-324", "1.7976931348623157e308", "0.6931471805599453", "0.0", "1e-07",
    "-123456.789", "1e+21", "0.5",
]  # fmt: skip
SYMBOLS = ["GOOG", 'BRK"B\\', "ÄÖ\tX"]


def _query(rows: list[tuple[str, int, str, str, int, str]]) -> str:
    values = ",\n".join(
        f"({_string(s)}, CAST({t} AS BIGINT), {_string(m)}, {_string(tf)}, CAST({h} AS BIGINT), "
        f"CAST('{v}' AS DOUBLE))"
        for s, t, m, tf, h, v in rows
    )
    return (
        "SELECT prediction_json(symbol, t_ns, model_id, timeframe, horizon, v)\n"
        f"FROM (VALUES\n{values}) AS t(symbol, t_ns, model_id, timeframe, horizon, v)"
    )


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture(scope="module")
def written() -> list[tuple[tuple[str, int, str, str, int, str], bytes]]:
    rows = [
        (SYMBOLS[i % len(SYMBOLS)], 1_700_000_000_000_000_000 + i, f"m-{i}", "1Min", 1 + i, v)
        for i, v in enumerate(VALUES)
    ]
    rows.append(("GOOG", 1, "m", "1Day", 5, "NaN"))
    out = collect_sql([PREDICTION_JSON_DDL], _query(rows))
    by_time = {json.loads(record)["t_ns"]: record for (record,) in out}  # any order
    assert sorted(by_time) == sorted(row[1] for row in rows)
    return [(row, by_time[row[1]]) for row in rows]


def test_each_record_is_the_prediction_with_every_value_read_back_exactly(
    written: list[tuple[tuple[str, int, str, str, int, str], bytes]],
) -> None:
    for (symbol, t_ns, model_id, timeframe, horizon, value), record in written[:-1]:
        prediction = Prediction.from_wire(record)
        assert prediction == Prediction(
            symbol=symbol, t_ns=t_ns, model_id=model_id, timeframe=timeframe,
            horizon=horizon, value=float(value),
        )  # fmt: skip
        assert list(json.loads(record)) == list(Prediction.model_fields)


def test_a_value_that_is_not_finite_is_null_and_refused_as_a_prediction(
    written: list[tuple[tuple[str, int, str, str, int, str], bytes]],
) -> None:
    record = written[-1][1]
    assert json.loads(record)["value"] is None
    with pytest.raises(SchemaError, match="value"):
        Prediction.from_wire(record)
