"""boto3 against the real Kinesis emulator: records put on a stream come back from its shard."""

from __future__ import annotations

import json
import time

from streamlines.stack.services.kinesis import kinesis_client


def test_put_then_get_records(stack, settings, unique_name):
    client = kinesis_client(settings.kinesis_endpoint, settings.aws_region)
    client.create_stream(StreamName=unique_name, ShardCount=1)
    client.get_waiter("stream_exists").wait(
        StreamName=unique_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    try:
        sent = [{"S": "AAPL", "p": 190.0 + i / 10, "seq": i} for i in range(50)]
        response = client.put_records(
            StreamName=unique_name,
            Records=[{"Data": json.dumps(m).encode(), "PartitionKey": m["S"]} for m in sent],
        )
        assert response["FailedRecordCount"] == 0

        shard = client.describe_stream(StreamName=unique_name)["StreamDescription"]["Shards"][0]
        iterator = client.get_shard_iterator(
            StreamName=unique_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        received: list[dict] = []
        deadline = time.monotonic() + 20
        while len(received) < len(sent) and time.monotonic() < deadline:
            batch = client.get_records(ShardIterator=iterator, Limit=1000)
            received += [json.loads(r["Data"]) for r in batch["Records"]]
            iterator = batch["NextShardIterator"]
        assert received == sent
    finally:
        client.delete_stream(StreamName=unique_name)
