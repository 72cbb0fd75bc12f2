"""jobs.narwhal.job: ``--print-sql`` (no Flink or Kafka needed) and resolving the model."""

from __future__ import annotations

from pathlib import Path

import pytest

import jobs.common.sources
import jobs.narwhal.job
from jobs.narwhal.job import resolve_model, run
from jobs.narwhal.options import parse_args
from jobs.narwhal.sql import SINK_INSERT, VIEW_SCORED, statements
from ml.models import ModelRecord
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError
from streamlines.settings import Settings


@pytest.fixture
def no_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    def existing_topics(*args: object, **kwargs: object) -> None:
        raise AssertionError("asked Kafka")

    monkeypatch.setattr(jobs.common.sources, "existing_topics", existing_topics)


@pytest.mark.usefixtures("no_kafka")
def test_print_sql_prints_every_statement_and_runs_nothing(capsys, tmp_path):
    opts = parse_args(["--print-sql", "--timeframe", "1Min", "--bootstrap", "k:1"])
    run(opts, Settings(models_dir=tmp_path))
    printed = capsys.readouterr().out
    for statement in [*statements(opts, BarTimeframe.MINUTE_1), VIEW_SCORED, SINK_INSERT]:
        assert f"{statement};\n" in printed
    assert "'indicators_1Min'" in printed


@pytest.mark.usefixtures("no_kafka")
def test_print_sql_with_a_model_takes_its_timeframe(
    capsys, goog_model: ModelRecord, store_root: Path
):
    opts = parse_args(["--print-sql", "--model", f"latest:{goog_model.name}"])
    run(opts, Settings(models_dir=store_root))
    assert "WHERE timeframe = '1Day'" in capsys.readouterr().out


def test_resolve_model_fills_in_the_store_and_the_timeframe(
    goog_model: ModelRecord, store_root: Path
):
    opts = parse_args(["--bootstrap", "k:1", "--model", goog_model.model_id])
    resolved, active = resolve_model(opts, Settings(models_dir=store_root))
    assert (resolved.model_dir, resolved.timeframe) == (store_root, BarTimeframe.DAY_1)
    assert active is not None
    assert active.model_id == goog_model.model_id
    mismatch = parse_args(["--bootstrap", "k:1", "--model", goog_model.model_id, "--timeframe",
                           "1Hour", "--model-dir", str(store_root)])  # fmt: skip
    with pytest.raises(UserError, match="trained on 1Day bars, not 1Hour"):
        resolve_model(mismatch, Settings())


def test_an_unknown_model_is_a_user_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        jobs.narwhal.job.main(
            ["--bootstrap", "k:1", "--model", "latest:nothing", "--model-dir", str(tmp_path)]
        )
    assert exit_.value.code == 1
    assert "error: no model of the config 'nothing'" in capsys.readouterr().err
