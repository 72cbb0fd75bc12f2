"""The fault suite: real faults injected into a real stack while the pipeline runs, each result
held to an independent computation (docs/faults.md). The faults kill and stop services, so they
run on a stack of this session's own (``fault_stack``: Kafka, InfluxDB and Flink on ports and in
a directory of their own), never on the shared one other tests and `streamlines demo` use.
Each test prints its figures; the session's summary lists them all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.faults import FIGURES
from tests.support.private_stack import PrivateStack, private_stack

FAULT_SERVICES = ["kafka", "influxdb", "flink"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: injects a fault into a private stack")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    """Kafka, InfluxDB and Flink of this session's own, stopped at the end."""
    with private_stack(tmp_path_factory.mktemp("fault-stack"), FAULT_SERVICES) as stack:
        yield stack


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("fault figures")
    for fault, figures in FIGURES:
        line = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in figures.items())
        terminalreporter.write_line(f"{fault}: {line}")
