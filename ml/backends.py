"""Where a model trains, chosen by the config's ``backend``: ``local`` (xgboost in this process,
``ml.train``) or ``sagemaker`` (SageMaker's built-in XGBoost, ``ml.sagemaker``)."""

from __future__ import annotations

import pandas as pd

from ml.config import TrainingConfig
from ml.sagemaker import train_sagemaker
from ml.train import TrainedModel, train_local
from streamlines.settings import Settings


def train_with_backend(
    matrix: pd.DataFrame, config: TrainingConfig, settings: Settings
) -> TrainedModel:
    """``config``'s model trained on ``matrix`` by ``config.backend``."""
    if config.backend == "sagemaker":
        return train_sagemaker(matrix, config, settings)
    return train_local(matrix, config)
