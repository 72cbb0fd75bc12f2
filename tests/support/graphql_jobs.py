"""A GraphQL server of a test's own whose jobs gather from a test's replay server into a bucket
and topic of the test's own, on a metadata database with users and keys (``keys``); and the
waiting for its jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from graphql_server.client import query, subscribe
from streamlines.child import graphql_server_process
from tests.support.metadata import Keys
from tests.support.replay import ReplayServer

JOB_FIELDS = "id kind status phase done total items errors result owner"
BACKFILL = """mutation($s: [String!]!, $a: DateTime!, $b: DateTime!) {
  backfill(symbols: $s, start: $a, end: $b) { id status } }"""


def job_server_env(
    keys: Keys, replay: ReplayServer, market: str, analytics: str, name: str
) -> dict[str, str]:
    """Gather from ``replay`` (no Alpaca keys) into bucket ``market``, analytics (what a
    recompute replaces) in bucket ``analytics``, topics named after ``name``."""
    return {
        "STREAMLINES_DATABASE_URL": keys.url,
        "STREAMLINES_REPLAY_PORT": str(replay.port),
        "STREAMLINES_ALPACA_API_KEY": "",
        "STREAMLINES_ALPACA_SECRET_KEY": "",
        "STREAMLINES_GATHER_BUCKET": market,
        "STREAMLINES_GATHER_TOPIC": f"{name}.bars.history",
        "STREAMLINES_GRAPHQL_ANALYTICS_BUCKET": analytics,
        "STREAMLINES_GRAPHQL_CURRENTS_TOPIC": f"{name}.currents",
        "STREAMLINES_GRAPHQL_RIPPLES_TOPIC": f"{name}.ripples",
    }


@contextmanager
def job_server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """The server's URL; its log's tail is printed afterwards (pytest shows it on failure)."""
    try:
        with graphql_server_process(env, log_path=log_path) as url:
            yield url
    finally:
        if log_path.exists():
            print(log_path.read_text()[-5000:])


def backfill(url: str, api_key: str, symbols: list[str], start: str, end: str) -> str:
    """Start a backfill as the key's user; its job id."""
    variables = {"s": symbols, "a": start, "b": end}
    return query(url, BACKFILL, variables, api_key=api_key)["backfill"]["id"]


def job_end(url: str, api_key: str, job_id: str, timeout: float = 120) -> dict[str, Any]:
    """The job's last state, watched with the job subscription until it ends."""

    async def last() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        document = f"subscription($id: String!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}"
        async for data in subscribe(url, document, {"id": job_id}, api_key=api_key):
            seen = data["job"]
        return seen

    return asyncio.run(asyncio.wait_for(last(), timeout))


def job(url: str, api_key: str, job_id: str) -> dict[str, Any] | None:
    document = f"query($id: String!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}"
    return query(url, document, {"id": job_id}, api_key=api_key)["job"]


def wait_for_status(url: str, api_key: str, job_id: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (state := job(url, api_key, job_id)) is None or state["status"] != status:
        assert time.monotonic() < deadline, f"job {job_id} is not {status}: {state}"
        time.sleep(0.1)
