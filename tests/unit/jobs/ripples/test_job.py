"""jobs.ripples.job: the checks a run makes before it builds the job (no Flink needed)."""

from __future__ import annotations

import uuid

import pytest

import jobs.common.sources
import jobs.ripples.job
from jobs.ripples.job import check_input_topics, run
from jobs.ripples.options import Options, parse_args
from jobs.ripples.sql import statements
from streamlines.contracts.topics import TOPIC_QUOTES, TOPIC_TRADES
from streamlines.errors import UserError


def test_a_bounded_run_needs_both_input_topics():
    opts = Options(bootstrap="k:1", bounded=True)
    check_input_topics(opts, {TOPIC_TRADES, TOPIC_QUOTES})
    with pytest.raises(UserError) as missing:
        check_input_topics(opts, {TOPIC_TRADES})
    assert str(missing.value) == (
        f"quotes topic {TOPIC_QUOTES} does not exist\n"
        "  fix: check --quotes-topic, or start ingest (it creates its topics)"
    )
    with pytest.raises(UserError, match=f"trades topic {TOPIC_TRADES} does not exist"):
        check_input_topics(opts, {TOPIC_QUOTES})


def test_a_bounded_run_checks_its_topics_before_building_the_job(monkeypatch):
    asked = []
    secured = {"security.protocol": "SSL"}  # the check logs in as the tables do

    def existing_topics(bootstrap: str, client_id: str, properties: object) -> set[str]:
        asked.append((bootstrap, properties))
        return {TOPIC_TRADES}

    def build_environment(*args: object, **kwargs: object) -> None:
        raise AssertionError("built a job on a missing topic")

    monkeypatch.setattr(jobs.common.sources, "existing_topics", existing_topics)
    monkeypatch.setattr(jobs.ripples.job, "build_environment", build_environment)
    with pytest.raises(UserError, match="quotes topic"):
        run(Options(bootstrap="k:1", bounded=True, kafka_properties=secured))
    assert asked == [("k:1", secured)]


def test_print_sql_prints_every_statement_and_runs_nothing(monkeypatch, capsys):
    def build_environment(*args: object, **kwargs: object) -> None:
        raise AssertionError("built the job")

    monkeypatch.setattr(jobs.ripples.job, "build_environment", build_environment)
    # The sink's transactional-id prefixes are new per submission; one for both listings here.
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=0))
    opts = parse_args(["--bootstrap", "k:1", "--print-sql"])
    run(opts)
    printed = capsys.readouterr().out
    ddl, inserts = statements(opts)
    for statement in [*ddl, *inserts]:
        assert f"{statement};\n" in printed
