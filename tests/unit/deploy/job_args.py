"""A deployment's options for a job, checked by the job's own command line parser."""

from __future__ import annotations

import importlib

from jobs.common.options import RunOptions


def check_job_args(job: str, args: list[str], *, bootstrap: str) -> RunOptions:
    """The options ``args`` give the job ``job`` (parsed by ``jobs.<job>.options``; a missing
    required option or a wrong value fails as it would on the cluster); asserts they name the
    Kafka ``bootstrap`` and would run on a cluster, unbounded."""
    options = importlib.import_module(f"jobs.{job}.options")
    try:
        parsed: RunOptions = options.parse_args(args)
    except SystemExit as exc:
        raise AssertionError(f"{job} refuses its options {args}") from exc
    assert parsed.bootstrap == bootstrap
    assert not (parsed.local)
    assert not (parsed.bounded)
    assert not (parsed.print_sql)
    return parsed
