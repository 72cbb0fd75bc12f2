"""The jobs' work: train's phases become the job's progress; results are strict JSON; what a job
makes is its owner's."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from graphql_server.jobs.registry import JobRegistry, JobSnapshot, JobState
from graphql_server.models import work
from ml.config import TrainingConfig, parse_config
from ml.models import ModelRecord
from streamlines.metadata.ownership import Ownership
from tests.support.graphql import BOB
from tests.unit.graphql_server.models.conftest import CONFIG, Metadata, Stored
from tests.unit.graphql_server.models.fakes import FakeCatalog

START, END = datetime(2011, 1, 3, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC)


def run(jobs: JobRegistry, job: work.Work) -> JobSnapshot:
    started = jobs.start("test", "test", job)
    for _ in range(200):
        snapshot = jobs.get(started.id)
        if snapshot is not None and snapshot.state.finished:
            return snapshot
        time.sleep(0.01)
    raise AssertionError("the job did not finish")


class WatchedCatalog(FakeCatalog):
    """Records the job's (phase, done) after each step the training reports."""

    def __init__(self, stored: Stored, jobs: JobRegistry) -> None:
        super().__init__(stored)
        self.jobs = jobs
        self.seen: list[tuple[str, int]] = []

    def train(self, config: TrainingConfig, step: Callable[[str], None]) -> ModelRecord:
        def watching(phase: str) -> None:
            step(phase)
            job = self.jobs.recent(1)[0]
            self.seen.append((job.phase, job.done))

        return super().train(config, watching)


def test_train_reports_each_phase_and_names_the_model(stored: Stored, metadata: Metadata) -> None:
    jobs = JobRegistry()
    catalog = WatchedCatalog(stored, jobs)
    done = run(jobs, work.train(catalog, parse_config(CONFIG), metadata.ownership, BOB.user_id,
                                None))  # fmt: skip
    assert catalog.seen == [("loading bars and indicators", 0), ("training on 10 rows", 1),
                            ("saving the model", 2)]  # fmt: skip
    assert done.phase == "succeeded"
    assert (done.done, done.total) == (work.TRAIN_STEPS, work.TRAIN_STEPS)
    assert done.result["model_id"] == stored.model.model_id
    assert all(math.isfinite(v) for v in done.result.values() if isinstance(v, float))
    assert metadata.ownership.model_owner(stored.model.model_id) == BOB.user_id


def test_finite_keeps_only_finite_numbers() -> None:
    assert work._finite({"auc": 0.5, "nan": math.nan, "none": None, "n": 3}) == {
        "auc": 0.5,
        "n": 3.0,
    }


class BrokenOwnership(Ownership):
    def record_model(self, model_id: str, owner_id: int, config_id: int | None = None) -> None:
        raise OSError("the metadata database is gone (simulated)")


def test_a_model_whose_owner_cannot_be_recorded_is_not_kept(
    own_stored: Stored, metadata: Metadata
) -> None:
    catalog = FakeCatalog(own_stored)
    ownership = BrokenOwnership(metadata.database)
    done = run(JobRegistry(), work.train(catalog, parse_config(CONFIG), ownership, BOB.user_id))
    assert done.state is JobState.FAILED
    assert "the metadata database is gone" in done.errors[0]
    # kept without an owner row, it would be shared with every key
    assert catalog.list_models() == []


def test_backtest_records_its_owner(own_stored: Stored, metadata: Metadata) -> None:
    catalog = FakeCatalog(own_stored)
    spec = catalog.backtest_spec(own_stored.model.model_id, "long_flat", 5.0)
    done = run(JobRegistry(), work.backtest(catalog, own_stored.model.model_id, START, END, spec,
                                            metadata.ownership, BOB.user_id))  # fmt: skip
    assert done.state is JobState.SUCCEEDED
    assert metadata.ownership.backtest_owner(own_stored.backtest.backtest_id) == BOB.user_id
