"""The demo's currents runs over the gathered history (``market.bars.history``), apart from the
live job (``streamlines.demo.jobs`` says why): ``python -m jobs.currents --local --bounded``
with no live topic, on its own mini-cluster (the cluster's two task slots run ripples and the
live currents), as the GraphQL server's recompute runs it.

Such a run's watermark is the history's alone, so every gathered bar gets its indicators
whatever the replay's clock. A run reads the topic up to its end offsets at start; bars
gathered while the demo runs (``streamlines gather``, GraphQL ``backfill``) start another run
once the topic has stopped growing for one look, so a backfill shows on the charts without a
restart. Each run reads the topic from its start and writes every record again, which
overwrites in InfluxDB.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from jobs.registry import JOBS
from streamlines.settings import Settings


def history_command(settings: Settings) -> list[str]:
    """One run over the whole history topic into the topic the GraphQL server reads."""
    return [
        sys.executable, "-m", JOBS["currents"].module, "--local", "--bounded",
        "--parallelism", "1", "--bootstrap", settings.kafka_bootstrap,
        "--history-topic", settings.gather_topic, "--live-topic", "",
        "--output-topic", settings.graphql_currents_topic,
    ]  # fmt: skip


class HistoryRuns:
    """Starts a run when the history topic holds records no run has read and has not grown
    since the last look (``look``, every few seconds); one run at a time."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self._settings, self._log = settings, log
        self._process: subprocess.Popen[bytes] | None = None
        self._read = 0  # records in the topic when the last run started
        self._last_seen = -1
        self.runs = 0
        self.failed = 0

    def look(self, records: int) -> str:
        """Given the history topic's record count now, start a run if one is due; the state
        for the demo's live line."""
        if self._process is not None and self._process.poll() is not None:
            self.failed += self._process.returncode != 0
            self._process = None
        stable, self._last_seen = records == self._last_seen, records
        if self._process is None and records > self._read and stable:
            self._read = records
            self.runs += 1
            with self._log.open("ab") as log:
                self._process = subprocess.Popen(
                    history_command(self._settings), stdout=log, stderr=log
                )
        return self.state()

    def state(self) -> str:
        if self._process is not None:
            return f"run {self.runs} computing"
        if self.runs == 0:
            return "nothing gathered"
        failed = f", {self.failed} failed (see {self._log})" if self.failed else ""
        return f"{self.runs} run(s) done{failed}"

    def wait(self, timeout: float) -> int | None:
        """Wait for the run in progress; its exit status (None if none was running)."""
        if self._process is None:
            return None
        code = self._process.wait(timeout=timeout)
        self.failed += code != 0
        self._process = None
        return code

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None
