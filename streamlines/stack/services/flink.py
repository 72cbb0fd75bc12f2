"""A standalone Flink cluster (a JobManager and ``flink_taskmanagers`` TaskManagers) from the
PyFlink distribution."""

from __future__ import annotations

import shutil
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import pyflink
import yaml
from rich.console import Console

from streamlines.stack.commands import require_tool
from streamlines.stack.http import HttpError, request_json
from streamlines.stack.maven import build_jar, resolve_jars
from streamlines.stack.process import ManagedProcess
from streamlines.stack.services.base import Health, PortSetting, Service

FLINK_VERSION = "2.2.1"
# SQL connector jars the jobs need on the cluster's classpath. The Kinesis SQL connector
# (flink-sql-connector-aws-kinesis-streams 6.0.0-2.0) is not on the Maven Central mirror this
# project can reach, so the local cluster has Kafka only; see the README.
FLINK_CONNECTORS = ["org.apache.flink:flink-sql-connector-kafka:5.0.0-2.2"]
REPO_ROOT = Path(__file__).resolve().parents[3]
# The jobs' Java functions (process table functions their SQL calls), built from source.
FUNCTIONS_PROJECT = REPO_ROOT / "jobs" / "java"
FUNCTIONS_ARTIFACT = "streamlines-flink-functions"
# Per subtask and operator: "<subtask>.<operator>.numLateRecordsDropped".
LATE_RECORDS_METRIC = ".numLateRecordsDropped"
# How often the REST API refreshes metrics (Flink's metrics.fetcher.update-interval default).
METRICS_REFRESH_S = 10.0
# The first TaskManager's process name (the fault tests kill it by it); the n-th is "<it>-<n>".
TASKMANAGER = "flink-taskmanager"


def pyflink_home() -> Path:
    return Path(pyflink.__file__).resolve().parent


class FlinkService(Service):
    name = "flink"

    @property
    def connectors_dir(self) -> Path:
        return self.cache_dir / f"flink-{FLINK_VERSION}-connectors"

    @property
    def functions_dir(self) -> Path:
        return self.cache_dir / f"flink-{FLINK_VERSION}-functions"

    @property
    def lib_dir(self) -> Path:
        return self.settings.state_dir / "flink" / "lib"

    @property
    def flink_conf_dir(self) -> Path:
        return self.conf_dir

    def taskmanager_names(self) -> list[str]:
        """The TaskManager processes of the settings: flink-taskmanager, flink-taskmanager-2..."""
        count = self.settings.flink_taskmanagers
        return [TASKMANAGER, *(f"{TASKMANAGER}-{n}" for n in range(2, count + 1))]

    def processes(self) -> list[ManagedProcess]:
        """The JobManager and the TaskManagers; also any TaskManager of an earlier start with a
        higher count that still runs, so that `stack down` stops it and `stack status` shows it."""
        names = self.taskmanager_names()
        stray = [
            process
            for pid_file in sorted(self.settings.state_dir.glob(f"run/{TASKMANAGER}-*.pid"))
            if pid_file.stem not in names and (process := self.process(pid_file.stem)).is_running()
        ]
        return [self.process("flink-jobmanager"), *map(self.process, names), *stray]

    def ports(self) -> list[PortSetting]:
        return [
            PortSetting(self.settings.flink_rest_port, "STREAMLINES_FLINK_REST_PORT"),
            PortSetting(self.settings.flink_rpc_port, "STREAMLINES_FLINK_RPC_PORT"),
        ]

    def install(self, console: Console) -> None:
        require_tool("java", "run Flink")
        resolve_jars(
            console,
            f"Flink {FLINK_VERSION} SQL connectors",
            FLINK_CONNECTORS,
            self.connectors_dir,
            transitive=False,
        )
        build_jar(
            console,
            "the jobs' Java functions",
            FUNCTIONS_PROJECT,
            FUNCTIONS_ARTIFACT,
            self.functions_dir,
        )
        # `stack up` installs first too, so this one check serves both commands.
        if any(p.is_running() for p in self.processes()):
            self.warn_if_stale(console)

    def client_env(self) -> dict[str, str]:
        """Environment for the Flink scripts (cluster and `flink run`) to use this cluster."""
        return {
            "FLINK_CONF_DIR": str(self.flink_conf_dir),
            "FLINK_LIB_DIR": str(self.lib_dir),
            "FLINK_LOG_DIR": str(self.log_dir / "flink"),
            "FLINK_PID_DIR": str(self.settings.state_dir / "run"),
            "PYFLINK_CLIENT_EXECUTABLE": sys.executable,
        }

    def cli_command(self, *args: str) -> tuple[list[str], dict[str, str]]:
        """`flink <args>` against this cluster: the command line and the environment it needs."""
        return ["bash", str(pyflink_home() / "bin" / "flink"), *args], self.client_env()

    def wait_until_job_running(self, job_id: str, timeout: float) -> None:
        """Wait until the job and every one of its tasks are RUNNING (a job is RUNNING as soon
        as it is scheduled; its tasks only once they have slots, which on a busy cluster can
        take a while), or FINISHED: a bounded source (currents' history) may have read all of
        its topic before the last task got its slot. Raises TimeoutError, with the states last
        seen, after ``timeout`` s."""
        url = f"{self.settings.flink_rest_url}/jobs/{job_id}"
        deadline = time.monotonic() + timeout
        while True:
            job = request_json("GET", url, timeout=10)
            tasks = [v["status"] for v in job["vertices"]]
            if job["state"] == "RUNNING" and all(s in ("RUNNING", "FINISHED") for s in tasks):
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Flink job {job_id} was not running after {timeout:g} s: job "
                    f"{job['state']}, tasks {', '.join(tasks) or 'none'}"
                )
            time.sleep(0.5)

    def late_records_dropped(self, job_id: str) -> int:
        """Rows the job's event-time operators dropped because they arrived behind the
        watermark (Flink's ``numLateRecordsDropped``), summed over operators and subtasks.
        Flink SQL drops such rows without a trace in the output; this is where they show.
        As of the REST API's last metrics refresh (every METRICS_REFRESH_S)."""
        job_url = f"{self.settings.flink_rest_url}/jobs/{job_id}"
        total = 0
        for vertex in request_json("GET", job_url, timeout=10)["vertices"]:
            url = f"{job_url}/vertices/{vertex['id']}/metrics"
            names = [
                metric["id"]
                for metric in request_json("GET", url, timeout=10)
                if metric["id"].endswith(LATE_RECORDS_METRIC)
            ]
            if names:
                query = urllib.parse.quote(",".join(names), safe=",")
                values = request_json("GET", f"{url}?get={query}", timeout=10)
                total += sum(int(float(value["value"])) for value in values)
        return total

    def overrides(self) -> dict[str, object]:
        s = self.settings
        state = s.state_dir / "flink"
        return {
            "jobmanager.rpc.address": s.host,
            "jobmanager.rpc.port": s.flink_rpc_port,
            "jobmanager.bind-host": s.host,
            "taskmanager.bind-host": s.host,
            "taskmanager.host": s.host,
            "rest.address": s.host,
            "rest.bind-address": s.host,
            "rest.port": s.flink_rest_port,
            "jobmanager.memory.process.size": s.flink_jobmanager_memory,
            "taskmanager.memory.process.size": s.flink_taskmanager_memory,
            "taskmanager.numberOfTaskSlots": s.flink_taskmanager_slots,
            "execution.checkpointing.dir": f"file://{state / 'checkpoints'}",
            "execution.checkpointing.savepoint-dir": f"file://{state / 'savepoints'}",
            "io.tmp.dirs": str(state / "tmp"),
            # Notice a dead TaskManager in seconds, not the default 50 s.
            "heartbeat.interval": 2000,
            "heartbeat.timeout": 10000,
            "web.tmpdir": str(state / "web"),
            "python.executable": sys.executable,
            "python.client.executable": sys.executable,
        }

    def write_config(self) -> None:
        """The project's flink-conf/config.yaml plus this machine's overrides."""
        config = yaml.safe_load((REPO_ROOT / "flink-conf" / "config.yaml").read_text()) or {}
        config.update(self.overrides())
        self.flink_conf_dir.mkdir(parents=True, exist_ok=True)
        (self.flink_conf_dir / "config.yaml").write_text(
            "# Generated by `streamlines stack up` from flink-conf/config.yaml; edit that file.\n"
            + yaml.safe_dump(config, sort_keys=False, width=10_000)
        )
        for name in ("log4j-console.properties", "log4j-cli.properties", "log4j.properties"):
            shutil.copy(pyflink_home() / "conf" / name, self.flink_conf_dir / name)
        for directory in ("tmp", "web", "checkpoints"):
            (self.settings.state_dir / "flink" / directory).mkdir(parents=True, exist_ok=True)

    def lib_jars(self) -> list[Path]:
        """The distribution's jars + connector jars + the jobs' functions, as installed now."""
        jars = [*sorted((pyflink_home() / "lib").glob("*.jar"))]
        jars += sorted((self.connectors_dir / "libs").glob("*.jar"))
        jars += sorted((self.functions_dir / "libs").glob("*.jar"))
        return jars

    def link_libs(self) -> None:
        """lib/ = ``lib_jars``, linked; the distribution stays untouched."""
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        self.lib_dir.mkdir(parents=True)
        for jar in self.lib_jars():
            (self.lib_dir / jar.name).symlink_to(jar)

    def stale_libs(self) -> list[str]:
        """The jars the running cluster was started with that are no longer installed (a
        rebuilt jobs' functions jar replaces the old one): a job that needs one of their
        classes fails with ClassNotFoundException until Flink restarts."""
        linked = {p.name for p in self.lib_dir.glob("*.jar")}
        return sorted(linked - {jar.name for jar in self.lib_jars()})

    def warn_if_stale(self, console: Console) -> None:
        stale = self.stale_libs()
        if stale:
            console.print(
                f"[yellow]![/yellow] Flink is running with jars that are no longer installed "
                f"({', '.join(stale)}; the jobs' Java functions were rebuilt): jobs that use "
                "them fail until Flink restarts. Restart it with `streamlines stack down flink "
                "&& streamlines stack up flink` (running jobs stop: `streamlines jobs stop NAME` "
                "takes a savepoint to resume one from)."
            )

    def start(self) -> None:
        self.write_config()
        self.link_libs()
        bin_dir = pyflink_home() / "bin"
        env = self.client_env()
        (self.log_dir / "flink").mkdir(parents=True, exist_ok=True)
        jobmanager = self.process("flink-jobmanager")
        if not jobmanager.is_running():
            jobmanager.start(["bash", bin_dir / "jobmanager.sh", "start-foreground"], env=env)
        for name in self.taskmanager_names():
            taskmanager = self.process(name)
            if taskmanager.is_running():
                continue
            # A fresh id per start: health then asks for *this* TaskManager, not a killed one
            # the JobManager still lists until its heartbeat times out.
            resource_id = f"streamlines-tm-{uuid.uuid4().hex[:8]}"
            self.taskmanager_id_file(name).parent.mkdir(parents=True, exist_ok=True)
            self.taskmanager_id_file(name).write_text(resource_id)
            taskmanager.start(
                ["bash", bin_dir / "taskmanager.sh", "start-foreground",
                 "-D", f"taskmanager.resource-id={resource_id}"],
                env=env,
            )  # fmt: skip

    def taskmanager_id_file(self, name: str = TASKMANAGER) -> Path:
        """Where the resource id of the TaskManager process ``name``'s latest start is."""
        return self.settings.state_dir / "run" / f"{name}.id"

    def health(self) -> Health:
        """Healthy when the REST API answers and every TaskManager of the settings has
        registered (by the resource id of its latest start)."""
        url = f"{self.settings.flink_rest_url}/overview"
        try:
            overview = request_json("GET", url, timeout=2)
        except (OSError, HttpError) as exc:
            return Health(False, f"no answer at {self.settings.flink_rest_url}: {exc}")
        try:
            expected = {
                name: self.taskmanager_id_file(name).read_text().strip()
                for name in self.taskmanager_names()
            }
            listed = request_json("GET", f"{self.settings.flink_rest_url}/taskmanagers", timeout=2)
        except (OSError, HttpError) as exc:
            return Health(False, f"TaskManager not known: {exc}")
        registered = {tm["id"] for tm in listed.get("taskmanagers", [])}
        missing = [f"{name} ({id_})" for name, id_ in expected.items() if id_ not in registered]
        detail = (
            f"{self.settings.flink_rest_url} Flink {overview.get('flink-version')}, "
            f"{len(expected) - len(missing)}/{len(expected)} TaskManager(s) registered "
            f"({overview.get('taskmanagers', 0)} listed), {overview.get('slots-available')}/"
            f"{overview.get('slots-total')} slots free, {overview.get('jobs-running')} jobs running"
        )
        if missing:
            return Health(False, f"TaskManager {', '.join(missing)} not registered yet; {detail}")
        return Health(True, detail)
