"""The `streamlines ingest` command itself, as a process, into the real Kafka."""

from __future__ import annotations

import os
import subprocess
import sys

from streamlines.contracts.events import Trade


def test_ingest_command_produces_trades(replay, stack, unique_name, read_topic):
    env = {
        **os.environ,
        "STREAMLINES_REPLAY_PORT": str(replay.port),
        "STREAMLINES_INGEST_TOPIC_TRADES": f"{unique_name}-trades",
        "STREAMLINES_INGEST_TOPIC_QUOTES": f"{unique_name}-quotes",
        "STREAMLINES_INGEST_TOPIC_BARS": f"{unique_name}-bars",
        "STREAMLINES_ALPACA_API_KEY": "",
        "STREAMLINES_ALPACA_SECRET_KEY": "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "streamlines.cli", "ingest", "--symbols", "GOOG", "--crypto",
         "BTC/USD", "--duration", "2"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ingest done: trades" in result.stderr
    trades = [Trade.from_wire(r.value) for r in read_topic(f"{unique_name}-trades", 50)]
    assert len(trades) == 50
    assert {t.symbol for t in trades} <= {"GOOG", "BTC/USD"}
