"""Every process's ``/proc/<pid>/stat`` (Linux): parents, CPU time and memory of processes."""

from __future__ import annotations

from pathlib import Path


def process_stats() -> dict[int, list[str]]:
    """pid -> the fields of its ``/proc/<pid>/stat`` after the command name, i.e. from field 3
    (state) on: ``[1]`` is the parent pid, ``[11]``/``[12]`` user/system CPU ticks, ``[21]``
    resident pages. Processes that end while being read are left out."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
    return stats
