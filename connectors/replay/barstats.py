"""Trade counts and VWAPs of source bars, kept on disk between runs of the replay server.

A source bar's ``n`` and ``vw`` come from the intraday trades generated inside it
(``SymbolFeed.trades_for_bar``: ~250 µs for a daily stock bar's 780 trades, most of it drawing
their sizes), so a freshly started server serves daily bars at ~4,000/s until each bar has been
asked for once. The store keeps those two numbers per bar, one file per symbol, named by a
digest of everything that decides them: the symbol, its bars and trading windows, the synth
settings, the source of the code that generates trades, numpy's version (its random streams
may change between versions). A restarted server loads what an earlier one computed; any
change that could alter a value reads another file. The values are stored exactly as computed
(int64, float64), so the server answers the same with or without the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT = b"bar-stats-1"


@dataclass(frozen=True)
class BarStats:
    counts: np.ndarray  # int64 per bar, -1 = not computed yet
    vwap: np.ndarray  # float64 per bar (0 where unknown or no trades)


def code_digest(*sources: Path) -> bytes:
    """A digest of the files whose code computes the stats."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes())
    return digest.digest()


def fingerprint(parts: list[bytes | str | np.ndarray]) -> str:
    digest = hashlib.sha256(FORMAT)
    digest.update(np.__version__.encode())
    for part in parts:
        if isinstance(part, np.ndarray):
            data = np.ascontiguousarray(part).tobytes()
        elif isinstance(part, str):
            data = part.encode()
        else:
            data = part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:32]


class BarStatsStore:
    """A directory of ``<fingerprint>.npz`` files (created when first written)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.npz"

    def load(self, key: str, length: int) -> BarStats | None:
        """The stored stats, or None when there are none (or they do not fit: ignored)."""
        path = self._path(key)
        try:
            with np.load(path) as data:
                counts, vwap = data["counts"], data["vwap"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable bar stats %s: %s", path, exc)
            return None
        if counts.shape != (length,) or vwap.shape != (length,):
            return None
        return BarStats(counts.astype(np.int64), vwap.astype(np.float64))

    def save(self, key: str, stats: BarStats) -> None:
        """Write atomically (other servers may read or write the same file); best effort: a
        server that cannot write its cache still serves."""
        path = self._path(key)
        temporary = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.npz")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as out:
                np.savez(out, counts=stats.counts, vwap=stats.vwap)
            os.replace(temporary, path)
        except OSError as exc:
            log.warning("cannot keep bar stats in %s: %s", self.directory, exc)
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
