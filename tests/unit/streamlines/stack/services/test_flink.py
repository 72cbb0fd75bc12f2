from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from streamlines.settings import Settings
from streamlines.stack.manager import Stack
from streamlines.stack.process import ManagedProcess
from streamlines.stack.services import flink
from streamlines.stack.services.flink import FlinkService, pyflink_home


def test_config_is_the_project_file_plus_local_overrides(tmp_path):
    settings = Settings(home=tmp_path / "home", flink_rest_port=18081, flink_taskmanager_slots=3)
    service = FlinkService(settings)
    service.write_config()
    config = yaml.safe_load((service.flink_conf_dir / "config.yaml").read_text())
    # From flink-conf/config.yaml:
    assert config["execution.checkpointing.interval"] == "10s"
    assert config["restart-strategy.type"] == "exponential-delay"
    # Overridden for this machine:
    assert config["rest.port"] == 18081
    assert config["taskmanager.numberOfTaskSlots"] == 3
    assert config["python.executable"] == sys.executable
    assert config["execution.checkpointing.dir"].startswith(f"file://{tmp_path}")
    assert (service.flink_conf_dir / "log4j-console.properties").exists()


def test_lib_dir_links_the_distribution_and_the_connectors(tmp_path):
    settings = Settings(home=tmp_path / "home")
    service = FlinkService(settings)
    connector = service.connectors_dir / "libs" / "flink-sql-connector-kafka-x.jar"
    connector.parent.mkdir(parents=True)
    connector.write_bytes(b"jar")
    service.link_libs()
    names = {p.name for p in service.lib_dir.iterdir()}
    assert "flink-sql-connector-kafka-x.jar" in names
    assert {p.name for p in (pyflink_home() / "lib").glob("flink-dist*.jar")} <= names
    service.link_libs()  # idempotent
    assert {p.name for p in service.lib_dir.iterdir()} == names


def test_a_running_cluster_with_a_replaced_functions_jar_is_told_to_restart(tmp_path):
    service = FlinkService(Settings(home=tmp_path / "home"))
    old = service.functions_dir / "libs" / "streamlines-flink-functions-aaa.jar"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"jar")
    service.link_libs()
    console = Console(record=True, width=200)
    service.warn_if_stale(console)
    assert service.stale_libs() == []
    assert console.export_text() == ""

    old.unlink()  # stack install rebuilt the functions: a new digest, the old jar gone
    (old.parent / "streamlines-flink-functions-bbb.jar").write_bytes(b"jar")
    assert service.stale_libs() == ["streamlines-flink-functions-aaa.jar"]
    service.warn_if_stale(console)
    said = console.export_text()
    assert "streamlines-flink-functions-aaa.jar" in said
    assert "streamlines stack down flink && streamlines stack up flink" in said

    service.link_libs()  # what a restart does
    assert service.stale_libs() == []


def test_cli_command_points_flink_at_the_generated_config(tmp_path):
    service = FlinkService(Settings(home=tmp_path))
    command, env = service.cli_command("run", "-py", "job.py")
    assert command[-3:] == ["run", "-py", "job.py"]
    assert env["FLINK_CONF_DIR"] == str(service.flink_conf_dir)
    assert env["FLINK_LIB_DIR"] == str(service.lib_dir)


def _job(state: str, *tasks: str) -> dict:
    return {"state": state, "vertices": [{"status": status} for status in tasks]}


def test_a_job_is_running_once_all_its_tasks_are(tmp_path, monkeypatch):
    answers = iter(
        [
            _job("CREATED"),
            _job("RUNNING", "SCHEDULED", "RUNNING"),
            _job("RUNNING", "RUNNING", "RUNNING"),
        ]
    )
    asked = []

    def request_json(method: str, url: str, timeout: float) -> dict:
        asked.append((method, url))
        return next(answers)

    monkeypatch.setattr(flink, "request_json", request_json)
    monkeypatch.setattr(flink.time, "sleep", lambda _: None)
    service = FlinkService(Settings(home=tmp_path / "home"))
    service.wait_until_job_running("abc", timeout=60)
    assert asked == [("GET", f"{service.settings.flink_rest_url}/jobs/abc")] * 3


def test_a_bounded_source_that_finished_before_the_last_task_ran_counts_as_started(
    tmp_path, monkeypatch
):
    answers = iter(
        [_job("RUNNING", "FINISHED", "SCHEDULED"), _job("RUNNING", "FINISHED", "RUNNING")]
    )
    monkeypatch.setattr(flink, "request_json", lambda *_, **__: next(answers))
    monkeypatch.setattr(flink.time, "sleep", lambda _: None)
    FlinkService(Settings(home=tmp_path / "home")).wait_until_job_running("abc", timeout=60)
    with pytest.raises(StopIteration):
        next(answers)  # it asked exactly twice: SCHEDULED was not enough


def test_a_job_whose_tasks_never_run_times_out_with_their_states(tmp_path, monkeypatch):
    monkeypatch.setattr(flink, "request_json", lambda *_, **__: _job("RUNNING", "SCHEDULED"))
    monkeypatch.setattr(flink.time, "sleep", lambda _: None)
    service = FlinkService(Settings(home=tmp_path / "home"))
    with pytest.raises(TimeoutError, match="job RUNNING, tasks SCHEDULED"):
        service.wait_until_job_running("abc", timeout=0)


def test_late_records_are_summed_over_the_operators_and_subtasks_that_count_them(
    tmp_path, monkeypatch
):
    service = FlinkService(Settings(home=tmp_path / "home"))
    job = f"{service.settings.flink_rest_url}/jobs/abc"
    listed = {
        f"{job}/vertices/v1/metrics": [
            {"id": "0.OverAggregate[4].numLateRecordsDropped"},
            {"id": "1.OverAggregate[4].numLateRecordsDropped"},
            {"id": "0.OverAggregate[4].numRecordsIn"},
        ],
        f"{job}/vertices/v2/metrics": [{"id": "0.Source__trades[1].numRecordsOut"}],
    }
    asked = []

    def request_json(method: str, url: str, timeout: float) -> object:
        asked.append(url)
        if url == job:
            return {"vertices": [{"id": "v1"}, {"id": "v2"}]}
        if url in listed:
            return listed[url]
        assert url == (
            f"{job}/vertices/v1/metrics?get=0.OverAggregate%5B4%5D.numLateRecordsDropped,"
            "1.OverAggregate%5B4%5D.numLateRecordsDropped"
        )
        return [{"id": "x", "value": "3"}, {"id": "y", "value": "4"}]

    monkeypatch.setattr(flink, "request_json", request_json)
    assert service.late_records_dropped("abc") == 7
    assert len(asked) == 4  # no value query for a vertex without the metric


def test_the_taskmanagers_setting_comes_from_the_environment_and_is_at_least_one(monkeypatch):
    monkeypatch.setenv("STREAMLINES_FLINK_TASKMANAGERS", "2")
    assert Settings().flink_taskmanagers == 2
    monkeypatch.setenv("STREAMLINES_FLINK_TASKMANAGERS", "0")
    with pytest.raises(ValueError, match="flink_taskmanagers"):
        Settings()


def test_one_process_per_taskmanager_the_first_keeps_its_name(tmp_path):
    service = FlinkService(Settings(home=tmp_path, flink_taskmanagers=3))
    assert [p.name for p in service.processes()] == [
        "flink-jobmanager",
        "flink-taskmanager",
        "flink-taskmanager-2",
        "flink-taskmanager-3",
    ]
    assert [p.name for p in FlinkService(Settings(home=tmp_path)).processes()] == [
        "flink-jobmanager",
        "flink-taskmanager",
    ]


def test_start_launches_each_taskmanager_with_a_resource_id_of_its_own(tmp_path, monkeypatch):
    started: dict[str, list[str]] = {}

    def start(self: ManagedProcess, command: list, env: dict | None = None) -> int:
        started[self.name] = [str(part) for part in command]
        return 1

    monkeypatch.setattr(ManagedProcess, "start", start)
    service = FlinkService(Settings(home=tmp_path, flink_taskmanagers=2))
    service.start()
    assert set(started) == {"flink-jobmanager", "flink-taskmanager", "flink-taskmanager-2"}
    ids = {}
    for name in ("flink-taskmanager", "flink-taskmanager-2"):
        assert started[name][1].endswith("taskmanager.sh")
        ids[name] = service.taskmanager_id_file(name).read_text()
        assert f"taskmanager.resource-id={ids[name]}" in started[name]
    assert ids["flink-taskmanager"] != ids["flink-taskmanager-2"]


def _cluster(service: FlinkService, registered: list[str]) -> object:
    rest = service.settings.flink_rest_url

    def request_json(method: str, url: str, timeout: float) -> dict:
        if url == f"{rest}/overview":
            return {"flink-version": "2.2.1", "taskmanagers": len(registered),
                    "slots-total": 2 * len(registered), "slots-available": 2 * len(registered),
                    "jobs-running": 0}  # fmt: skip
        assert url == f"{rest}/taskmanagers"
        return {"taskmanagers": [{"id": id_} for id_ in registered]}

    return request_json


def test_healthy_only_once_every_taskmanager_has_registered(tmp_path, monkeypatch):
    service = FlinkService(Settings(home=tmp_path, flink_taskmanagers=2))
    run = service.settings.state_dir / "run"
    run.mkdir(parents=True)
    (run / "flink-taskmanager.id").write_text("tm-a")
    (run / "flink-taskmanager-2.id").write_text("tm-b")

    monkeypatch.setattr(flink, "request_json", _cluster(service, ["tm-a", "tm-old"]))
    health = service.health()
    assert not health.ok
    assert "flink-taskmanager-2 (tm-b) not registered yet" in health.detail
    assert "1/2 TaskManager(s) registered" in health.detail

    monkeypatch.setattr(flink, "request_json", _cluster(service, ["tm-a", "tm-b"]))
    health = service.health()
    assert health.ok
    assert "2/2 TaskManager(s) registered" in health.detail
    assert "4/4 slots free" in health.detail


def test_a_taskmanager_never_started_is_not_healthy(tmp_path, monkeypatch):
    service = FlinkService(Settings(home=tmp_path, flink_taskmanagers=2))
    (service.settings.state_dir / "run").mkdir(parents=True)
    (service.settings.state_dir / "run" / "flink-taskmanager.id").write_text("tm-a")
    monkeypatch.setattr(flink, "request_json", _cluster(service, ["tm-a"]))
    health = service.health()
    assert not health.ok
    assert "TaskManager not known" in health.detail


def _sleeper(service: FlinkService, name: str) -> ManagedProcess:
    process = service.process(name)
    process.start([sys.executable, "-c", "import time; time.sleep(60)"])
    return process


def test_status_shows_and_down_stops_every_taskmanager_also_one_of_a_higher_count(
    tmp_path: Path,
):
    """Started with 3 TaskManagers, then the setting lowered to 2: the third still runs, so
    status lists it and down stops it with the others."""
    settings = Settings(home=tmp_path, flink_taskmanagers=2)
    service = FlinkService(settings)
    processes = [_sleeper(service, name) for name in ("flink-taskmanager", "flink-taskmanager-2")]
    processes.append(_sleeper(service, "flink-taskmanager-3"))
    try:
        stack = Stack(settings)
        [status] = stack.status(["flink"])
        assert status.state == "down"  # the JobManager is not running
        assert status.pids == [p.pid() for p in processes]
        assert stack.down(["flink"]) == [
            "flink-taskmanager-3",
            "flink-taskmanager-2",
            "flink-taskmanager",
        ]
        assert not any(p.is_running() for p in processes)
    finally:
        for process in processes:
            process.stop(timeout=2)
