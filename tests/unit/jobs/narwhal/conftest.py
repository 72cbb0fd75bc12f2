"""A model trained on real GOOG daily features, in a store of its own, for the narwhal tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ml.models import ModelRecord
from tests.support.narwhal import goog_bars, train_goog_model


@pytest.fixture(scope="package")
def goog() -> pd.DataFrame:
    return goog_bars()


@pytest.fixture(scope="package")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="package")
def goog_model(store_root: Path) -> ModelRecord:
    return train_goog_model(store_root)
