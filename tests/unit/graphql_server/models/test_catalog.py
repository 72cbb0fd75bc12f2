"""The model catalog on a real model store: reads, the artifact, a backtest's spec from the
model, UserErrors as client messages."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from graphql_server.models.catalog import ModelCatalog, query_error
from ml.models import UnknownModel
from streamlines.errors import UserError
from tests.unit.graphql_server.models.conftest import Stored


def test_reads_are_the_stores(stored: Stored) -> None:
    catalog = ModelCatalog(stored.settings)
    assert [m.model_id for m in catalog.list_models()] == [stored.model.model_id]
    assert catalog.get(stored.model.model_id) == stored.model
    # as stored: the JSON of what ml.results saved (the spec's threshold made explicit)
    (listed,) = catalog.backtests(stored.model.model_id)
    assert listed.to_json() == stored.backtest.to_json()
    assert catalog.backtest_record(stored.backtest.backtest_id).to_json() == listed.to_json()


def test_the_artifact_is_the_stored_file_with_its_sha256(stored: Stored) -> None:
    artifact = ModelCatalog(stored.settings).artifact(stored.model.model_id)
    data = Path(stored.model.path).read_bytes()
    assert (artifact.file_name, artifact.data) == ("model.tar.gz", data)
    assert artifact.sha256 == hashlib.sha256(data).hexdigest()


def test_a_backtest_spec_takes_the_models_timeframe_and_kind(stored: Stored) -> None:
    spec = ModelCatalog(stored.settings).backtest_spec(stored.model.model_id, "long_short", 1.5)
    assert (spec.strategy, spec.cost_bps, spec.periods_per_year, spec.kind, spec.cut) == (
        "long_short",
        1.5,
        252,
        "classification",
        0.5,
    )
    with pytest.raises(UserError, match="a cost cannot be negative"):
        ModelCatalog(stored.settings).backtest_spec(stored.model.model_id, "long_flat", -1)


def test_a_user_error_becomes_the_clients_message_with_the_fix() -> None:
    assert str(query_error(UserError("unknown model 'x'", "list them"))) == (
        "unknown model 'x' (fix: list them)"
    )
    assert str(query_error(UserError("no backtest 'y'"))) == "no backtest 'y'"


def test_delete_removes_the_models_backtests_then_the_model(own_stored: Stored) -> None:
    catalog = ModelCatalog(own_stored.settings)
    model_id = own_stored.model.model_id
    assert catalog.delete(model_id) == [own_stored.backtest.backtest_id]
    assert catalog.list_models() == []
    assert list(own_stored.settings.model_store_dir.iterdir()) == []
    with pytest.raises(UnknownModel):
        catalog.delete(model_id)


def test_deleting_an_unknown_model_deletes_nothing(own_stored: Stored) -> None:
    # backtests left of a model whose artifact is gone: the model is unknown, they stay
    root = own_stored.settings.model_store_dir
    orphan = "goog-gql-20200101T000000-abcdef"
    shutil.copytree(root / own_stored.model.model_id / "backtests", root / orphan / "backtests")
    catalog = ModelCatalog(own_stored.settings)
    with pytest.raises(UnknownModel):
        catalog.delete(orphan)
    assert (root / orphan / "backtests" / f"{own_stored.backtest.backtest_id}.json").is_file()
