"""What every local service provides to the stack manager."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from streamlines.settings import Settings
from streamlines.stack.process import ManagedProcess


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


@dataclass(frozen=True)
class PortSetting:
    port: int
    env_var: str


class Service(ABC):
    """A service of the local stack. Subclasses set ``name`` and implement the hooks."""

    name: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def data_dir(self) -> Path:
        return self.settings.state_dir / "data" / self.name

    @property
    def conf_dir(self) -> Path:
        return self.settings.state_dir / "conf" / self.name

    @property
    def log_dir(self) -> Path:
        return self.settings.state_dir / "logs"

    @property
    def cache_dir(self) -> Path:
        return self.settings.home

    def process(self, name: str | None = None) -> ManagedProcess:
        return ManagedProcess(name or self.name, self.settings.state_dir / "run", self.log_dir)

    def processes(self) -> list[ManagedProcess]:
        return [self.process()]

    @abstractmethod
    def ports(self) -> list[PortSetting]: ...

    @abstractmethod
    def install(self, console: Console) -> None:
        """Make the binaries/jars available; cached, so a second call is instant."""

    @abstractmethod
    def start(self) -> None:
        """Launch the process(es); return at once (the manager waits for health)."""

    @abstractmethod
    def health(self) -> Health: ...

    def after_start(self, console: Console) -> None:  # noqa: B027 - optional hook
        """One-time set-up once healthy (idempotent)."""
