"""Bring the local stack up, down, and report its health; idempotent throughout."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from streamlines.console import make_console
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.ports import ensure_port_free
from streamlines.stack.procfs import process_stats
from streamlines.stack.services.aws import AwsService
from streamlines.stack.services.base import Health, Service
from streamlines.stack.services.flink import FlinkService
from streamlines.stack.services.influxdb import InfluxDBService
from streamlines.stack.services.kafka import KafkaService
from streamlines.stack.services.kinesis import KinesisService
from streamlines.stack.services.postgres import PostgresService
from streamlines.stack.services.replay import ReplayService

# Start order: the lighter services first, Flink (two JVMs) last.
SERVICE_TYPES: tuple[type[Service], ...] = (
    KafkaService,
    InfluxDBService,
    KinesisService,
    AwsService,
    PostgresService,
    FlinkService,
    ReplayService,
)
SERVICE_NAMES = tuple(t.name for t in SERVICE_TYPES)
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # "healthy", "starting", "unhealthy" or "down"
    pids: list[int]
    rss_bytes: int
    detail: str


class Stack:
    def __init__(self, settings: Settings, console: Console | None = None) -> None:
        self.settings = settings
        self.console = console or make_console(stderr=True)
        self.services: dict[str, Service] = {t.name: t(settings) for t in SERVICE_TYPES}

    def select(self, names: list[str] | None) -> list[Service]:
        if not names:
            return list(self.services.values())
        unknown = [n for n in names if n not in self.services]
        if unknown:
            raise UserError(
                f"unknown service(s): {', '.join(unknown)}",
                hint=f"choose from {', '.join(SERVICE_NAMES)}.",
            )
        return [self.services[n] for n in SERVICE_NAMES if n in names]

    def install(self, names: list[str] | None = None) -> None:
        for service in self.select(names):
            service.install(self.console)

    def up(self, names: list[str] | None = None) -> list[ServiceStatus]:
        services = self.select(names)
        self.install(names)
        to_wait: list[Service] = []
        for service in services:
            running = [p.is_running() for p in service.processes()]
            if all(running):
                if service.health().ok:
                    self.console.print(f"[green]✓[/green] {service.name} already up")
                # Healthy or still starting: either way, wait for it and re-check its set-up.
                to_wait.append(service)
                continue
            if not any(running):
                for port in service.ports():
                    ensure_port_free(self.settings.host, port.port, service.name, port.env_var)
            self.console.print(f"Starting {service.name} …")
            service.start()  # starts only the processes that are not running
            to_wait.append(service)
        for service in to_wait:
            self._wait_healthy(service)
            service.after_start(self.console)
        return self.status(names)

    def _wait_healthy(self, service: Service) -> Health:
        deadline = time.monotonic() + self.settings.start_timeout
        health = Health(False, "not probed yet")
        with self.console.status(f"Waiting for {service.name} to become healthy …"):
            while time.monotonic() < deadline:
                dead = [p for p in service.processes() if not p.is_running()]
                if dead:
                    raise UserError(
                        f"{service.name} exited while starting. Last lines of {dead[0].log_file}:\n"
                        f"{dead[0].log_tail()}",
                        hint="fix the cause the log shows, then run `streamlines stack up` again.",
                    )
                health = service.health()
                if health.ok:
                    self.console.print(f"[green]✓[/green] {service.name} healthy: {health.detail}")
                    return health
                time.sleep(0.5)
        process = service.processes()[0]
        raise UserError(
            f"{service.name} did not become healthy within {self.settings.start_timeout:.0f}s "
            f"({health.detail}). Last lines of {process.log_file}:\n{process.log_tail()}",
            hint="see the log; a slow machine may need STREAMLINES_START_TIMEOUT=<seconds>.",
        )

    def down(self, names: list[str] | None = None) -> list[str]:
        stopped = []
        for service in reversed(self.select(names)):
            for process in reversed(service.processes()):
                if process.stop():
                    stopped.append(process.name)
        return stopped

    def status(self, names: list[str] | None = None) -> list[ServiceStatus]:
        result = []
        for service in self.select(names):
            processes = service.processes()
            pids = [pid for p in processes if p.is_running() and (pid := p.pid()) is not None]
            if len(pids) < len(processes):
                state, detail = "down", _down_detail(service, len(pids), len(processes))
            else:
                health = service.health()
                state, detail = ("healthy" if health.ok else "unhealthy"), health.detail
            rss = sum(tree_rss_bytes(pid) for pid in pids)
            result.append(ServiceStatus(service.name, state, pids, rss, detail))
        return result

    def log_files(self, names: list[str] | None = None) -> list[Path]:
        return [p.log_file for s in self.select(names) for p in s.processes()]


def _down_detail(service: Service, running: int, total: int) -> str:
    if running == 0:
        return "not running"
    dead = [p.name for p in service.processes() if not p.is_running()]
    return f"{running}/{total} processes running; {', '.join(dead)} is not"


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for child, fields in process_stats().items():
        children.setdefault(int(fields[1]), []).append(child)
        rss[child] = int(fields[21]) * _PAGE_SIZE  # field 24 of stat: rss in pages
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total
