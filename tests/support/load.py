"""Fault 7's tools: k6 (built by scripts/load-tools.sh into $STREAMLINES_HOME/tools/bin), a
GraphQL server process's resident memory, and the two subscribers k6 cannot be: one that never
reads its socket and one that reads slowly (graphql-transport-ws, by hand)."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from streamlines.child import REPO
from streamlines.settings import Settings

SUBSCRIPTION = """subscription($s: [String!]!) {
  ripples(symbols: $s, metrics: [BAR_1M]) { symbol tNs close: value(name: "close") } }"""


def k6_binary(settings: Settings) -> Path:
    """k6, built once by scripts/load-tools.sh (from its Go module) when it is not there."""
    k6 = settings.home / "tools" / "bin" / "k6"
    if not k6.exists():
        env = {**os.environ, "STREAMLINES_HOME": str(settings.home)}
        subprocess.run([str(REPO / "scripts" / "load-tools.sh")], check=True, env=env)
    return k6


def run_k6(k6: Path, script: Path, summary: Path, env: dict[str, str], timeout: float) -> dict:
    """Run ``script`` with ``env``; the summary's metrics (k6's handleSummary JSON)."""
    result = subprocess.run(
        [str(k6), "run", "--quiet", "--no-usage-report", str(script)],
        env={**os.environ, **env, "SUMMARY": str(summary)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert summary.exists(), f"k6 failed ({result.returncode}): {result.stderr[-2000:]}"
    # What the script logged (its errors, say), shown with a failing test's output.
    logged = [line for line in result.stderr.splitlines() if "level=error" in line]
    if logged:
        print(f"k6 logged {len(logged)} error line(s), the first 20:", *logged[:20], sep="\n")
    metrics: dict[str, Any] = json.loads(summary.read_text())
    return metrics


def server_pid(port: int) -> int:
    """The pid of this process's child serving on ``port`` (``streamlines graphql serve``)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        if (
            ppid == me
            and b"--port" in args
            and args[args.index(b"--port") + 1] == str(port).encode()
        ):
            return int(entry.name)
    raise AssertionError(f"no child process serves port {port}")


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` (VmRSS), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


class RssSampler:
    """Samples a process's RSS every ``every`` seconds on a thread: ``(seconds, MiB)``."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid = pid
        self.every = every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._start = time.monotonic()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - self._start, rss_mib(self.pid)))
            self._stop.wait(self.every)

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def peak_between(self, t0: float, t1: float) -> float:
        return max(m for t, m in self.samples if t0 <= t <= t1)


def _frame(payload: dict[str, Any]) -> bytes:
    """One masked text frame (a client's frames must be masked; the mask may be zero)."""
    data = json.dumps(payload).encode()
    n = len(data)
    header = bytes([0x81])
    if n < 126:
        header += bytes([0x80 | n])
    else:
        header += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return header + b"\0\0\0\0" + data


class RawSubscriber:
    """A graphql-transport-ws client on a bare socket with a small receive buffer: it
    subscribes to ``symbols`` and then, unless ``read_every`` is set, never reads again (the
    kernel's buffers fill and the server can no longer send to it). With ``read_every``, it
    reads one chunk of ``chunk`` bytes that often: a slow reader."""

    def __init__(
        self, url: str, symbols: list[str], read_every: float | None = None, chunk: int = 512
    ) -> None:
        host, port = url.removeprefix("http://").split("/")[0].split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
            ).encode()
        )
        head = self.sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101"), head[:200]
        self.sock.sendall(_frame({"type": "connection_init", "payload": {}}))
        time.sleep(0.2)  # the ack arrives; it is read, if at all, with the updates
        payload = {"query": SUBSCRIPTION, "variables": {"s": symbols}}
        self.sock.sendall(_frame({"id": "1", "type": "subscribe", "payload": payload}))
        self.received = 0
        self.closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if read_every is not None:
            self._thread = threading.Thread(
                target=self._read_slowly, args=(read_every, chunk), daemon=True
            )
            self._thread.start()

    def _read_slowly(self, every: float, chunk: int) -> None:
        self.sock.settimeout(5)
        while not self._stop.wait(every):
            try:
                data = self.sock.recv(chunk)
            except TimeoutError:
                continue
            except OSError:
                self.closed = True
                return
            if not data:
                self.closed = True
                return
            self.received += len(data)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.sock.close()
