"""The scoring function of the narwhal job: a vectorised (pandas) map over the feature rows.
Flink hands it batches of rows (``python.fn-execution.arrow.batch.size``) as one DataFrame; it
scores each batch with one ``Booster.predict`` call. The model is loaded once per worker, in
``open``, and swapped there when ``--model latest:<name>`` finds a newer one (``scorer.py``)."""

from __future__ import annotations

import pandas as pd
from pyflink.table import DataTypes
from pyflink.table.types import DataType
from pyflink.table.udf import FunctionContext, ScalarFunction, UserDefinedScalarFunctionWrapper, udf

from jobs.narwhal.scorer import Scorer, ScorerConfig


def prediction_type() -> DataType:
    """``contracts.events.Prediction``'s fields."""
    return DataTypes.ROW(
        [
            DataTypes.FIELD("symbol", DataTypes.STRING()),
            DataTypes.FIELD("t_ns", DataTypes.BIGINT()),
            DataTypes.FIELD("model_id", DataTypes.STRING()),
            DataTypes.FIELD("timeframe", DataTypes.STRING()),
            DataTypes.FIELD("horizon", DataTypes.BIGINT()),
            DataTypes.FIELD("value", DataTypes.DOUBLE()),
        ]
    )


class ScoreBatch(ScalarFunction):
    def __init__(self, config: ScorerConfig) -> None:
        self.config = config
        self.scorer: Scorer | None = None

    def open(self, function_context: FunctionContext) -> None:
        self.scorer = Scorer(self.config)

    def eval(self, rows: pd.DataFrame) -> pd.DataFrame:
        assert self.scorer is not None
        return self.scorer.score(rows)


def score_function(config: ScorerConfig) -> UserDefinedScalarFunctionWrapper:
    """The pandas function for ``Table.map``: feature rows in, Prediction rows out."""
    return udf(ScoreBatch(config), result_type=prediction_type(), func_type="pandas")
