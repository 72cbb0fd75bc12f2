from __future__ import annotations

import socket

import pytest

from streamlines.errors import UserError
from streamlines.stack.ports import ensure_port_free, port_is_open


def test_taken_port_names_the_setting_that_moves_it():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_is_open("127.0.0.1", port)
        with pytest.raises(UserError) as info:
            ensure_port_free("127.0.0.1", port, "kafka", "STREAMLINES_KAFKA_PORT")
    message = str(info.value)
    assert f"127.0.0.1:{port} is taken" in message
    assert "STREAMLINES_KAFKA_PORT=<port>" in message


def test_free_port_passes():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ensure_port_free("127.0.0.1", port, "kafka", "STREAMLINES_KAFKA_PORT")
    assert not port_is_open("127.0.0.1", port)
