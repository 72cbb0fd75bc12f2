"""The Flink jobs from the cluster's REST API: each job's state, the rows its event-time
operators dropped as late (``numLateRecordsDropped``, summed over operators and subtasks) and the
records its sources read per second (``numRecordsOutPerSecond`` of the source vertices: Flink
counts no records *in* at a source)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LATE_RECORDS = ".numLateRecordsDropped"
SOURCE_RATE = "numRecordsOutPerSecond"

# GET a path of the REST API (e.g. "/jobs/overview"), its JSON answer.
Get = Callable[[str], Any]


@dataclass(frozen=True)
class JobInfo:
    id: str
    name: str
    state: str
    start_time_ms: int | None
    late_records_dropped: int | None  # None: not running, no metrics
    records_in_per_second: float | None


def read_jobs(get: Get) -> list[JobInfo]:
    """Every job the cluster lists (it forgets finished ones after an hour by default), running
    ones first, then by name; metrics for running jobs only."""
    jobs = []
    for job in get("/jobs/overview")["jobs"]:
        late: int | None = None
        rate: float | None = None
        if job["state"] == "RUNNING":
            late, rate = job_metrics(get, job["jid"])
        jobs.append(
            JobInfo(
                id=job["jid"],
                name=job["name"],
                state=job["state"],
                start_time_ms=job.get("start-time") if job.get("start-time", -1) > 0 else None,
                late_records_dropped=late,
                records_in_per_second=rate,
            )
        )
    return sorted(jobs, key=lambda j: (j.state != "RUNNING", j.name, j.id))


def job_metrics(get: Get, job_id: str) -> tuple[int, float]:
    """(late records dropped, records read per second) of one running job."""
    job = get(f"/jobs/{job_id}")
    sources = source_vertices(job)
    late = 0
    rate = 0.0
    for vertex in job["vertices"]:
        base = f"/jobs/{job_id}/vertices/{vertex['id']}"
        names = [m["id"] for m in get(f"{base}/metrics") if m["id"].endswith(LATE_RECORDS)]
        if names:
            late += sum_values(get(f"{base}/metrics?get={_quoted(names)}"))
        if vertex["id"] in sources:
            answer = get(f"{base}/subtasks/metrics?get={SOURCE_RATE}&agg=sum")
            rate += sum(float(m.get("sum", 0.0)) for m in answer)
    return late, rate


def source_vertices(job: dict[str, Any]) -> set[str]:
    """The vertices nothing feeds (the plan's nodes without inputs)."""
    nodes = job.get("plan", {}).get("nodes", [])
    return {node["id"] for node in nodes if not node.get("inputs")}


def sum_values(metrics: list[dict[str, Any]]) -> int:
    return sum(int(float(m["value"])) for m in metrics)


def _quoted(names: list[str]) -> str:
    return urllib.parse.quote(",".join(names), safe=",")
