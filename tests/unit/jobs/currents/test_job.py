"""jobs.currents.job: ``--print-sql`` (no Flink or Kafka needed)."""

from __future__ import annotations

import jobs.common.sources
import jobs.currents.job
from jobs.currents.job import run
from jobs.currents.options import parse_args
from jobs.currents.sql import python_input_query, statements


def test_print_sql_prints_every_statement_and_runs_nothing(monkeypatch, capsys):
    def existing_topics(*args: object, **kwargs: object) -> None:
        raise AssertionError("asked Kafka")

    monkeypatch.setattr(jobs.common.sources, "existing_topics", existing_topics)
    opts = parse_args(["--bootstrap", "k:1", "--print-sql", "--crossovers", "sma:5:30,sma:10:50"])
    run(opts)
    printed = capsys.readouterr().out
    ddl, inserts = statements(opts)
    python_input = python_input_query(opts.all_sma_periods())
    assert "sma_5, sma_10, sma_20, sma_30, sma_50, sma_200, middle, std" in python_input
    for statement in [*ddl, python_input, *inserts]:
        assert f"{statement};\n" in printed
