"""Narwhal's mutations: arguments checked before a job starts (a bad config names the field),
then the job runs the work and reports what it made."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from graphql_server.jobs.registry import JobRegistry, JobState
from graphql_server.models.catalog import ModelCatalog
from streamlines.errors import UserError
from tests.support.graphql import ALICE, execute
from tests.unit.graphql_server.models.conftest import CONFIG, Metadata, Stored
from tests.unit.graphql_server.models.fakes import FakeCatalog

JOB = "{ id kind status description result }"


def finished(jobs: JobRegistry, job_id: str) -> Any:
    for _ in range(200):
        job = jobs.get(job_id)
        if job is not None and job.state.finished:
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def mutate(stored: Stored, metadata: Metadata, query: str, catalog: FakeCatalog | None = None,
           **variables: Any):  # fmt: skip
    jobs = JobRegistry()
    catalog = catalog or FakeCatalog(stored)
    services = {ModelCatalog: catalog, JobRegistry: jobs, **metadata.services()}
    result = execute(query, services, stored.settings, **variables)
    return result, jobs, catalog


def test_train_model_validates_the_config_then_trains_in_a_job(
    stored: Stored, metadata: Metadata
) -> None:
    result, jobs, catalog = mutate(
        stored, metadata, f"mutation($c: JSON!) {{ trainModel(config: $c) {JOB} }}", c=CONFIG
    )
    assert result.errors is None
    job = result.data["trainModel"]
    assert job["kind"] == "train_model"
    assert job["description"] == "train goog-gql on 1 symbols (GOOG) from 2004-01-01 to " \
                                 "2011-01-01 (local)"  # fmt: skip
    done = finished(jobs, job["id"])
    assert done.state is JobState.SUCCEEDED
    assert done.result["model_id"] == stored.model.model_id
    ((call, config),) = catalog.calls
    assert call == "train"
    assert config.features == CONFIG["features"]
    assert (done.done, done.total) == (3, 3)
    # the job and the model are the key's user's
    assert done.owner_id == ALICE.user_id
    assert metadata.ownership.model_owner(stored.model.model_id) == ALICE.user_id


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({**CONFIG, "features": ["ret_1", "moon_phase"]}, "field `features`: unknown feature"),
        ({**CONFIG, "end": "2003-01-01"}, "end: must be after start"),
        ({**CONFIG, "hyperparameters": {"eta": 0}}, "field `hyperparameters.eta`"),
        ({**CONFIG, "colour": "blue"}, "field `colour`: not a known field"),
        ({k: v for k, v in CONFIG.items() if k != "symbols"}, "field `symbols`: Field required"),
        ([1, 2], "field `config`"),
    ],
)
def test_an_invalid_config_is_refused_naming_the_field_and_starts_no_job(
    stored: Stored, metadata: Metadata, config: Any, field: str
) -> None:
    result, jobs, catalog = mutate(
        stored, metadata, "mutation($c: JSON!) { trainModel(config: $c) { id } }", c=config
    )
    assert result.errors, config
    message = result.errors[0].message
    assert field in message
    assert "invalid training config" in message
    assert jobs.recent(10) == []
    assert catalog.calls == []


def test_predict_scores_in_a_job(stored: Stored, metadata: Metadata) -> None:
    result, jobs, catalog = mutate(
        stored,
        metadata,
        f"""mutation($m: String!) {{ predict(modelId: $m, symbols: ["GOOG", "GOOG"],
              start: "2011-01-03", end: "2013-01-01") {JOB} }}""",
        m=stored.model.model_id,
    )
    assert result.errors is None
    done = finished(jobs, result.data["predict"]["id"])
    assert done.state is JobState.SUCCEEDED
    assert done.result == {"model_id": stored.model.model_id, "predictions": 7,
                           "points_written": 7, "records_sent": 7}  # fmt: skip
    assert done.items == 7
    start, end = datetime(2011, 1, 3, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC)
    assert catalog.calls == [("predict", stored.model.model_id, ["GOOG"], start, end)]


def test_backtest_builds_the_spec_from_the_model_and_the_arguments(
    stored: Stored, metadata: Metadata
) -> None:
    result, jobs, catalog = mutate(
        stored,
        metadata,
        f"""mutation($m: String!) {{ backtest(modelId: $m, start: "2011-01-03",
              end: "2013-01-01", strategy: LONG_SHORT, costBps: 2.5) {JOB} }}""",
        m=stored.model.model_id,
    )
    assert result.errors is None
    done = finished(jobs, result.data["backtest"]["id"])
    assert done.state is JobState.SUCCEEDED
    assert done.result["backtest_id"] == stored.backtest.backtest_id
    portfolio = stored.backtest.result.portfolio
    assert done.result["total_return"] == portfolio.strategy.total_return
    assert done.result["buy_and_hold_total_return"] == portfolio.buy_and_hold.total_return
    ((_, model_id, start, end, spec),) = catalog.calls
    assert model_id == stored.model.model_id
    assert (start, end) == (datetime(2011, 1, 3, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC))
    assert (spec.strategy, spec.cost_bps, spec.periods_per_year, spec.kind, spec.cut) == (
        "long_short",
        2.5,
        252,
        "classification",
        0.5,
    )


def test_backtest_defaults_to_long_flat_at_5_bps(stored: Stored, metadata: Metadata) -> None:
    result, jobs, catalog = mutate(
        stored,
        metadata,
        """mutation($m: String!) { backtest(modelId: $m, start: "2011-01-03",
             end: "2013-01-01") { id } }""",
        m=stored.model.model_id,
    )
    finished(jobs, result.data["backtest"]["id"])
    spec = catalog.calls[0][-1]
    assert (spec.strategy, spec.cost_bps) == ("long_flat", 5.0)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('mutation { backtest(modelId: "goog-gql-20200101T000000-abcdef", start: "2011-01-03", '
         'end: "2013-01-01") { id } }', "unknown model 'goog-gql-20200101T000000-abcdef'"),
        ('mutation { backtest(modelId: "MODEL", start: "2011-01-03", end: "2013-01-01", '
         "costBps: -1) { id } }", "a cost cannot be negative"),
        ('mutation { backtest(modelId: "MODEL", start: "2013-01-03", end: "2013-01-01") '
         "{ id } }", "is not after start"),
        ('mutation { predict(modelId: "nope", symbols: ["GOOG"], start: "2011-01-03", '
         'end: "2013-01-01") { id } }', "'nope' is not a model id"),
        ('mutation { predict(modelId: "MODEL", symbols: [], start: "2011-01-03", '
         'end: "2013-01-01") { id } }', "no symbols"),
    ],
)  # fmt: skip
def test_bad_arguments_start_no_job(
    stored: Stored, metadata: Metadata, query: str, message: str
) -> None:
    result, jobs, catalog = mutate(stored, metadata, query.replace("MODEL", stored.model.model_id))
    assert result.errors, query
    assert message in result.errors[0].message
    assert jobs.recent(10) == []
    assert catalog.calls == []


def test_a_failure_in_the_work_fails_the_job_with_the_message(
    stored: Stored, metadata: Metadata
) -> None:
    catalog = FakeCatalog(stored, fail=UserError("no bars of GOOG in the range", "gather them"))
    result, jobs, _ = mutate(
        stored,
        metadata,
        """mutation($m: String!) { predict(modelId: $m, symbols: ["GOOG"], start: "2011-01-03",
             end: "2013-01-01") { id } }""",
        catalog,
        m=stored.model.model_id,
    )
    done = finished(jobs, result.data["predict"]["id"])
    assert done.state is JobState.FAILED
    assert done.errors == ("no bars of GOOG in the range (fix: gather them)",)
