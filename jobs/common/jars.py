"""The connector jars of a run on a local mini-cluster (``--local``): the Kafka SQL connector
that ``streamlines stack install`` downloads. A cluster has them on its classpath instead.

The folder follows the stack's convention (``FlinkService.connectors_dir``):
``<STREAMLINES_HOME>/flink-<version>-connectors/libs``, for the version of the installed
PyFlink. The jobs do not import the stack (they run on any Flink cluster), only the settings.
"""

from __future__ import annotations

from pathlib import Path

from pyflink.version import __version__ as flink_version

from streamlines.errors import UserError
from streamlines.settings import Settings


def connectors_dir(home: Path) -> Path:
    """Where the stack puts the connector jars of this Flink version under ``home``."""
    return home / f"flink-{flink_version}-connectors" / "libs"


def connector_jar_uris(settings: Settings) -> list[str]:
    """The connector jars, as URIs for ``pipeline.jars``."""
    jars = sorted(connectors_dir(settings.home).glob("*.jar"))
    if not jars:
        raise UserError("no Kafka SQL connector jar", "run `streamlines stack install` first")
    return [jar.as_uri() for jar in jars]
