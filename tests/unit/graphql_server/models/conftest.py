"""A model store of the tests' own with a real model (trained on GOOG daily bars with
``ml.train.train_local``) and a real backtest of its predictions kept with it; a metadata
database (SQLite) with the users the in-process requests act as."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from ml.artifacts import predict
from ml.backtest import BacktestSpec, run_backtest
from ml.config import parse_config
from ml.models import LocalModelStore, ModelRecord
from ml.results import BacktestRecord, BacktestStore
from ml.train import train_local
from streamlines.datasets import load_bars
from streamlines.metadata.accounts import Accounts
from streamlines.metadata.configs import TrainingConfigs
from streamlines.metadata.database import Database, open_database
from streamlines.metadata.ownership import Ownership
from streamlines.settings import Settings
from tests.support.graphql import ALICE, BOB, ROOT
from tests.support.metadata import sqlite_url
from tests.support.ml_matrix import FEATURES, matrix

CONFIG = {
    "name": "goog-gql",
    "symbols": ["GOOG"],
    "start": "2004-01-01",
    "end": "2011-01-01",
    "features": FEATURES,
    "label": {"kind": "classification", "horizon": 5},
    "hyperparameters": {"max_depth": 3, "eta": 0.3, "num_round": 30},
    "splits": {"folds": 2, "min_train_fraction": 0.6},
}


@dataclass(frozen=True)
class Stored:
    settings: Settings
    model: ModelRecord
    backtest: BacktestRecord


@pytest.fixture(scope="package")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    root: Path = tmp_path_factory.mktemp("models")
    config = parse_config(CONFIG)
    rows = matrix(end="2011-01-01")
    store = LocalModelStore(root)
    record = store.save(train_local(rows, config), config)
    # Its predictions on the bars after training, traded against GOOG's closes.
    later = matrix(start="2011-01-01")
    scored = later[["time"]].assign(prediction=predict(store.load(record.model_id), later))
    closes = load_bars("GOOG")["close"].rename_axis("time").reset_index()
    closes["time"] = pd.to_datetime(closes["time"], utc=True)
    frame = scored.merge(closes, on="time", how="inner")
    spec = BacktestSpec(cost_bps=5.0)
    start, end = datetime(2011, 1, 1, tzinfo=UTC), datetime(2014, 1, 1, tzinfo=UTC)
    backtest = BacktestStore(root).save(record.model_id, start, end,
                                        run_backtest({"GOOG": frame}, spec))  # fmt: skip
    return Stored(Settings(models_dir=root), record, backtest)


@pytest.fixture
def own_stored(stored: Stored, tmp_path: Path) -> Stored:
    """A copy of ``stored`` in a folder of the test's own (for tests that delete)."""
    root = tmp_path / "own-models"
    shutil.copytree(stored.settings.model_store_dir, root)
    model = replace(stored.model, path=str(root / stored.model.model_id / "model.tar.gz"))
    return Stored(stored.settings.model_copy(update={"models_dir": root}), model,
                  stored.backtest)  # fmt: skip


@dataclass(frozen=True)
class Metadata:
    """A fresh SQLite metadata database with users alice, bob and root (the ids of
    ``tests.support.graphql``'s ALICE, BOB and ROOT) and its services."""

    database: Database
    ownership: Ownership
    configs: TrainingConfigs

    def services(self) -> dict[type, object]:
        return {Database: self.database, Ownership: self.ownership,
                TrainingConfigs: self.configs}  # fmt: skip


@pytest.fixture
def metadata(tmp_path: Path) -> Iterator[Metadata]:
    database = open_database(Settings(database_url=sqlite_url(tmp_path)))
    accounts = Accounts(database)
    for principal in (ALICE, BOB, ROOT):
        assert accounts.add_user(principal.name, principal.is_admin).id == principal.user_id
    yield Metadata(database, Ownership(database), TrainingConfigs(database))
    database.close()
