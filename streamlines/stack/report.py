"""How the stack shows itself: the status table and the shell exports for its Flink."""

from __future__ import annotations

import shlex

from rich.console import Console
from rich.table import Table

from streamlines.console import make_console
from streamlines.settings import Settings
from streamlines.stack.manager import ServiceStatus
from streamlines.stack.services.flink import FlinkService, pyflink_home


def print_status(statuses: list[ServiceStatus], console: Console | None = None) -> None:
    """The services' states as a table, and their resident memory together (to stdout)."""
    console = console or make_console()
    table = Table(title="Stream Lines local stack")
    for column in ("service", "state", "pid", "memory", "detail"):
        table.add_column(column)
    colours = {"healthy": "green", "down": "red"}
    for st in statuses:
        colour = colours.get(st.state, "yellow")
        table.add_row(
            st.name,
            f"[{colour}]{st.state}[/{colour}]",
            ",".join(map(str, st.pids)) or "-",
            f"{st.rss_bytes / 2**20:.0f} MiB" if st.pids else "-",
            st.detail,
        )
    total = sum(st.rss_bytes for st in statuses)
    console.print(table)
    console.print(f"resident memory, all services: {total / 2**30:.2f} GiB")


def shell_exports(settings: Settings) -> list[str]:
    """``export`` lines that point the Flink scripts (``flink run``) at this stack."""
    exports = FlinkService(settings).client_env()
    exports["PATH"] = f"{pyflink_home() / 'bin'}:$PATH"
    return [
        f'export {key}="{value}"' if key == "PATH" else f"export {key}={shlex.quote(value)}"
        for key, value in exports.items()
    ]
