"""The narwhal job's one Python step: a vectorised (pandas) scalar function that gets a batch of
bars, each with its look-back (``lookback.py`` computes their features), and scores them with
the model (``scorer.py``). It holds no state: the look-back comes with each bar from the JVM
(``settled_bars``, ``jobs/java``), so a batch crosses between the JVM and Python as Arrow
columns, not record by record. The model is loaded once per worker, in ``open``.
"""

from __future__ import annotations

import pandas as pd
from pyflink.table import DataTypes
from pyflink.table.udf import FunctionContext, ScalarFunction, UserDefinedFunctionWrapper, udf

from jobs.narwhal.lookback import window_features
from jobs.narwhal.scorer import Scorer, ScorerConfig

UDF_NAME = "score_windows"
# What it returns per bar: the Prediction fields the bar does not have.
RESULT_FIELDS = ("model_id", "timeframe", "horizon", "value")


class ScoreWindows(ScalarFunction):
    """``score_windows(symbol, t_ns, times, values)``: ROW<model_id, timeframe, horizon,
    value> per bar."""

    def __init__(self, config: ScorerConfig) -> None:
        self.config = config
        self.scorer: Scorer | None = None

    def open(self, function_context: FunctionContext) -> None:
        self.scorer = Scorer(self.config)

    def eval(
        self, symbol: pd.Series, t_ns: pd.Series, times: pd.Series, values: pd.Series
    ) -> pd.DataFrame:
        assert self.scorer is not None
        features = window_features(
            symbol.to_numpy(), t_ns.to_numpy("int64"), times.to_numpy(), values.to_numpy()
        )
        scored = self.scorer.score(features)
        return scored[list(RESULT_FIELDS)].reset_index(drop=True)


def score_windows(config: ScorerConfig) -> UserDefinedFunctionWrapper:
    types = (DataTypes.STRING(), DataTypes.STRING(), DataTypes.BIGINT(), DataTypes.DOUBLE())
    result = DataTypes.ROW(
        [DataTypes.FIELD(name, kind) for name, kind in zip(RESULT_FIELDS, types, strict=True)]
    )
    return udf(ScoreWindows(config), result_type=result, func_type="pandas")
