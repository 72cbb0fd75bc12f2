"""build_sink's Kinesis sink takes its order and linger from the settings (the client and the
streams' creation are stand-ins: no Kinesis here)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.ingest import service
from connectors.ingest.router import Topics
from streamlines.contracts.events import Trade
from streamlines.settings import Settings


class OneRejection:
    """Rejects the first record it is offered once; keeps the accepted ones in order."""

    def __init__(self) -> None:
        self.stored: list[float] = []
        self.rejected = False

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        results: list[dict[str, str]] = []
        for record in Records:
            if not self.rejected:
                self.rejected = True
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
            else:
                self.stored.append(json.loads(record["Data"])["price"])
                results.append({"SequenceNumber": "1", "ShardId": "s-0"})
        failed = sum("ErrorCode" in r for r in results)
        return {"FailedRecordCount": failed, "Records": results}


@pytest.mark.parametrize(("ordered", "stored"), [("true", [1, 2, 3]), ("false", [2, 3, 1])])
def test_the_kinesis_sink_keeps_order_unless_the_setting_says_not(
    monkeypatch: pytest.MonkeyPatch, ordered: str, stored: list[float]
) -> None:
    client = OneRejection()
    monkeypatch.setattr(service, "kinesis_client", lambda endpoint, region: client)
    monkeypatch.setattr(service, "ensure_streams", lambda *args: None)
    monkeypatch.setattr("connectors.sinks.kinesis.time.sleep", lambda seconds: None)
    monkeypatch.setenv("STREAMLINES_INGEST_KINESIS_ORDERED", ordered)
    monkeypatch.setenv("STREAMLINES_INGEST_KINESIS_LINGER_SECONDS", "60")
    sink = service.build_sink("kinesis", Settings(_env_file=None), Topics("tr", "qu", "ba"))
    for price in (1, 2, 3):
        sink.send("tr", Trade(symbol="GOOG", t_ns=1_000 + price, price=price, size=1))
    assert client.stored == []  # a partial batch waits for the linger (60 s) or a flush
    sink.close()
    assert client.stored == stored
