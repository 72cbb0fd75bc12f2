"""The jobs there are: each one's name, the module ``python -m`` runs, the file ``flink run -py``
runs, and what it computes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streamlines.errors import UserError

JOBS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Job:
    name: str
    module: str  # python -m <module>
    file: Path  # flink run -py <file>
    description: str


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "ripples",
            "jobs.ripples",
            JOBS_DIR / "ripples" / "__main__.py",
            "Per-symbol bars, rolling statistics and spreads from trades and quotes.",
        ),
        Job(
            "currents",
            "jobs.currents",
            JOBS_DIR / "currents" / "__main__.py",
            "Per-symbol indicators from bars, and the 24-hour volatility ranking.",
        ),
        Job(
            "beacons",
            "jobs.beacons",
            JOBS_DIR / "beacons" / "__main__.py",
            "Fundamentals against daily closes: valuation ratios, event moves, event studies.",
        ),
        Job(
            "narwhal",
            "jobs.narwhal",
            JOBS_DIR / "narwhal" / "__main__.py",
            "Per-symbol predictions of a Narwhal model from bars and indicators.",
        ),
    )
}


def available_jobs() -> list[str]:
    """The names of the jobs, sorted."""
    return sorted(JOBS)


def find_job(name: str) -> Job:
    """The job called ``name``, or a UserError that lists the others."""
    job = JOBS.get(name)
    if job is None:
        raise UserError(f"no job {name!r}", f"choose one of {', '.join(available_jobs())}")
    return job
