"""jobs.common.options: the run options every job has (no Flink or Kafka needed)."""

from __future__ import annotations

import argparse

import pytest

from jobs.common.options import add_run_arguments, bootstrap_and_group_id


def parse(argv: list[str]) -> tuple[str, str]:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser, "job")
    return bootstrap_and_group_id(parser, parser.parse_args(argv), "job")


def test_group_id_is_the_jobs_name_or_new_per_bounded_run():
    assert parse(["--bootstrap", "k:1"]) == ("k:1", "job")
    assert parse(["--bootstrap", "k:1", "--group-id", "g", "--bounded"]) == ("k:1", "g")
    _, first = parse(["--bootstrap", "k:1", "--bounded"])
    _, second = parse(["--bootstrap", "k:1", "--bounded"])
    assert first.startswith("job-")
    assert first != second


def test_bootstrap_is_required_on_a_cluster():
    with pytest.raises(SystemExit):
        parse([])
