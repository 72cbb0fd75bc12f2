"""Running ingest in tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from connectors.ingest.router import Router
from connectors.ingest.service import Ingest


def run_until(run: Ingest, done: Callable[[Router], bool], timeout: float = 30.0) -> None:
    """Run ingest until ``done(router)`` holds (or the timeout), then stop and flush it."""
    run.start()
    deadline = time.monotonic() + timeout
    try:
        while not done(run.router) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        run.stop()
    assert done(run.router), f"ingest did not get there in {timeout} s: {run.summary()}"
