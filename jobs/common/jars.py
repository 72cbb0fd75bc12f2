"""The jars of a run on a local mini-cluster (``--local``): the Kafka SQL connector that
``streamlines stack install`` downloads and the jobs' Java functions it builds. A cluster has
them on its classpath instead.

The folders follow the stack's convention (``FlinkService.connectors_dir`` and
``functions_dir``): ``<STREAMLINES_HOME>/flink-<version>-connectors/libs`` and
``flink-<version>-functions/libs``, for the version of the installed PyFlink. The jobs do not
import the stack (they run on any Flink cluster), only the settings.
"""

from __future__ import annotations

from pathlib import Path

from pyflink.version import __version__ as flink_version

from streamlines.errors import UserError
from streamlines.settings import Settings


def connectors_dir(home: Path) -> Path:
    """Where the stack puts the connector jars of this Flink version under ``home``."""
    return home / f"flink-{flink_version}-connectors" / "libs"


def functions_dir(home: Path) -> Path:
    """Where the stack puts the jobs' Java functions of this Flink version under ``home``."""
    return home / f"flink-{flink_version}-functions" / "libs"


def job_jar_uris(settings: Settings) -> list[str]:
    """The connector jars and the jobs' functions, as URIs for ``pipeline.jars``."""
    connectors = sorted(connectors_dir(settings.home).glob("*.jar"))
    functions = sorted(functions_dir(settings.home).glob("*.jar"))
    if not connectors or not functions:
        missing = "Kafka SQL connector" if not connectors else "jobs' Java functions"
        raise UserError(f"no {missing} jar", "run `streamlines stack install` first")
    return [jar.as_uri() for jar in [*connectors, *functions]]
