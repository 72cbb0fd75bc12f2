"""The jobs' work: train's phases become the job's progress; results are strict JSON."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from graphql_server.jobs.registry import JobRegistry, JobSnapshot
from graphql_server.models import work
from ml.config import TrainingConfig, parse_config
from ml.models import ModelRecord
from tests.unit.graphql_server.models.conftest import CONFIG, Stored
from tests.unit.graphql_server.models.fakes import FakeCatalog


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


def test_train_reports_each_phase_and_names_the_model(stored: Stored) -> None:
    jobs = JobRegistry()
    catalog = WatchedCatalog(stored, jobs)
    done = run(jobs, work.train(catalog, parse_config(CONFIG)))
    assert catalog.seen == [("loading bars and indicators", 0), ("training on 10 rows", 1),
                            ("saving the model", 2)]  # fmt: skip
    assert done.phase == "succeeded"
    assert (done.done, done.total) == (work.TRAIN_STEPS, work.TRAIN_STEPS)
    assert done.result["model_id"] == stored.model.model_id
    assert all(math.isfinite(v) for v in done.result.values() if isinstance(v, float))


def test_finite_keeps_only_finite_numbers() -> None:
    assert work._finite({"auc": 0.5, "nan": math.nan, "none": None, "n": 3}) == {
        "auc": 0.5,
        "n": 3.0,
    }
