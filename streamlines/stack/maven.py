"""Resolve jars from Maven Central, and build the project's own, with the machine's Maven, into a
cache directory."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from rich.console import Console

from streamlines.errors import UserError
from streamlines.stack.commands import require_tool, run_step

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>streamlines.local</groupId>
  <artifactId>{artifact}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""


def resolve_jars(
    console: Console,
    name: str,
    coordinates: list[str],
    dest: Path,
    transitive: bool = True,
) -> list[Path]:
    """Copy ``group:artifact:version`` jars (and their runtime deps) into ``dest/libs``.

    A stamp file records what was resolved, so a second call does no work.
    """
    libs = dest / "libs"
    stamp = dest / ".resolved"
    wanted = "\n".join([*coordinates, f"transitive={transitive}"])
    if stamp.exists() and stamp.read_text() == wanted:
        return sorted(libs.glob("*.jar"))
    require_tool("mvn", f"download {name} from Maven Central")
    dest.mkdir(parents=True, exist_ok=True)
    deps = []
    for coordinate in coordinates:
        group, artifact, version = coordinate.split(":")
        deps.append(
            f"    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
            f"<version>{version}</version></dependency>"
        )
    pom = _POM.format(artifact=dest.name, dependencies="\n".join(deps))
    (dest / "pom.xml").write_text(pom)
    command = [
        "mvn",
        "-B",
        "-f",
        str(dest / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={libs}",
        "-DincludeScope=runtime",
        f"-DexcludeTransitive={'false' if transitive else 'true'}",
    ]
    run_step(console, f"Downloading {name} jars from Maven Central", command, dest / "mvn.log")
    stamp.write_text(wanted)
    return sorted(libs.glob("*.jar"))


def build_jar(console: Console, name: str, project: Path, artifact: str, dest: Path) -> Path:
    """Build the Maven ``project`` (a folder with pom.xml and src/) into ``dest/libs``, as
    ``<artifact>-<digest of its sources>.jar``: rebuilt only when the sources change.

    Maven builds a copy under ``dest`` (the checkout stays clean) and runs offline once its
    plugins and dependencies are in the local repository."""
    sources = sorted(p for p in [project / "pom.xml", *project.glob("src/**/*")] if p.is_file())
    digest = hashlib.sha256()
    for path in sources:
        digest.update(str(path.relative_to(project)).encode())
        digest.update(path.read_bytes())
    jar = dest / "libs" / f"{artifact}-{digest.hexdigest()[:12]}.jar"
    if jar.exists():
        return jar
    require_tool("mvn", f"build {name}")
    build = dest / "build"
    shutil.rmtree(build, ignore_errors=True)
    shutil.copytree(project, build, ignore=shutil.ignore_patterns("target"))
    command = ["mvn", "-B", "-f", str(build / "pom.xml"), "package", "-DskipTests"]
    run_step(console, f"Building {name} with Maven", command, dest / "mvn.log")
    built = sorted((build / "target").glob("*.jar"))
    if len(built) != 1:
        raise UserError(
            f"Maven built {len(built)} jars for {name}, expected one",
            hint=f"read {dest / 'mvn.log'}; the project's pom.xml must package one jar",
        )
    shutil.rmtree(dest / "libs", ignore_errors=True)
    jar.parent.mkdir(parents=True)
    shutil.copy2(built[0], jar)
    return jar
