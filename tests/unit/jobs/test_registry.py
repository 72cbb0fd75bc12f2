"""jobs.registry: the jobs there are, and nothing else."""

from __future__ import annotations

import pytest

from jobs.registry import JOBS, available_jobs, find_job
from streamlines.errors import UserError


def test_it_is_not_a_job_of_its_own():
    assert "common" not in available_jobs()
    assert {"ripples", "currents"} <= set(available_jobs())


def test_jobs_submit_knows_currents_and_not_its_parts():
    jobs = available_jobs()
    assert "currents" in jobs
    assert not any(job.startswith("currents_") for job in jobs)


def test_each_job_is_a_module_and_a_file_flink_can_run():
    for name, job in JOBS.items():
        assert job.module == f"jobs.{name}"
        assert job.file.is_file()
        assert job.description


def test_an_unknown_job_names_the_ones_there_are():
    with pytest.raises(UserError) as unknown:
        find_job("tides")
    assert str(unknown.value) == (
        "no job 'tides'\n  fix: choose one of beacons, currents, narwhal, ripples"
    )
