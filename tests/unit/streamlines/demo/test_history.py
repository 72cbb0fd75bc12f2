"""streamlines.demo.history: when the demo runs currents over the history (the run itself
faked by a short Python command: the real one is in the integration test)."""

from __future__ import annotations

import sys

from jobs.currents.options import parse_args
from streamlines.demo import history
from streamlines.demo.history import HistoryRuns, history_command
from streamlines.settings import Settings


def test_a_run_reads_the_history_alone_to_its_end_into_the_graphql_topic():
    settings = Settings(gather_topic="my.history", graphql_currents_topic="my.currents")
    command = history_command(settings)
    assert command[:3] == [sys.executable, "-m", "jobs.currents"]
    opts = parse_args(command[3:])
    assert opts.local
    assert opts.bounded
    assert (opts.history_topic, opts.live_topic) == ("my.history", None)
    assert opts.output_topic == "my.currents"


def test_a_run_starts_once_new_history_stopped_growing_and_one_at_a_time(tmp_path, monkeypatch):
    code = "import sys, time; time.sleep(float(sys.argv[1])); sys.exit(int(sys.argv[2]))"
    outcome = ["0.5", "0"]
    monkeypatch.setattr(
        history, "history_command", lambda _: [sys.executable, "-c", code, *outcome]
    )
    runs = HistoryRuns(Settings(), tmp_path / "history.log")
    assert runs.look(0) == "nothing gathered"
    assert runs.look(0) == "nothing gathered"
    assert runs.look(100) == "nothing gathered"  # still growing (a gather in progress)
    assert runs.look(100) == "run 1 computing"
    assert runs.look(250) == "run 1 computing"  # more gathered meanwhile: after this run
    assert runs.wait(30) == 0
    assert runs.look(250) == "run 2 computing"
    outcome[:] = ["0", "3"]
    assert runs.wait(30) == 0
    assert runs.look(250) == "2 run(s) done"  # nothing new: no run
    assert runs.look(300) == "2 run(s) done"
    assert runs.look(300) == "run 3 computing"
    runs.wait(30)
    assert runs.look(300) == f"3 run(s) done, 1 failed (see {tmp_path / 'history.log'})"


def test_stop_ends_a_run_in_progress(tmp_path, monkeypatch):
    monkeypatch.setattr(
        history, "history_command", lambda _: [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    runs = HistoryRuns(Settings(), tmp_path / "history.log")
    runs.look(5)
    runs.look(5)
    assert runs.state() == "run 1 computing"
    process = runs._process
    runs.stop()
    assert process is not None
    assert process.poll() is not None
