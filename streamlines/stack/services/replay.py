"""The Alpaca-protocol replay server (connectors/replay) as a service of the local stack."""

from __future__ import annotations

import sys

from rich.console import Console

from streamlines.stack.http import HttpError, request_json
from streamlines.stack.services.base import Health, PortSetting, Service


class ReplayService(Service):
    name = "replay"

    def ports(self) -> list[PortSetting]:
        return [PortSetting(self.settings.replay_port, "STREAMLINES_REPLAY_PORT")]

    def install(self, console: Console) -> None:
        """Pure Python, installed with the project; its data ships with PyPI packages."""

    def start(self) -> None:
        s = self.settings
        # Run as its own process (not imported): the core does not import the connectors.
        command = [
            sys.executable, "-m", "connectors.replay", "serve",
            "--host", s.replay_listen_host, "--port", str(s.replay_port),
            "--speed", s.replay_speed, "--start", s.replay_start,
            "--log-level", "warning",
        ]  # fmt: skip
        self.process().start(command)

    def health(self) -> Health:
        url = f"{self.settings.replay_url}/healthz"
        try:
            body = request_json("GET", url, timeout=2)
        except (OSError, HttpError) as exc:
            return Health(False, f"no answer at {self.settings.replay_url}: {exc}")
        summary = ", ".join(f"{k} {v}" for k, v in body.items() if not isinstance(v, dict | list))
        return Health(True, f"{self.settings.replay_url} {summary}")
