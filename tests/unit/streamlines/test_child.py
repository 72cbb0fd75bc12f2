"""streamlines.child.free_port: free ports below the kernel's ephemeral range, none twice."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import streamlines.child
from streamlines.child import LOWEST_PORT, free_port


def test_ports_are_free_distinct_and_below_the_ephemeral_range():
    start = streamlines.child._ephemeral_start()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    if start > LOWEST_PORT:  # the kernel says where its range starts (Linux)
        assert all(LOWEST_PORT <= p < start for p in ports)
    for port in ports[:5]:
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))


def test_without_the_kernels_range_any_free_port(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(streamlines.child, "EPHEMERAL_RANGE", tmp_path / "missing")
    port = free_port()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
