"""Resolve jars from Maven Central with the machine's Maven, into a cache directory."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

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
