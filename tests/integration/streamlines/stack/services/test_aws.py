"""The stack's AWS emulator (moto in server mode): S3 stores and returns real objects over
HTTP, and SageMaker's API answers; both through the project's one AWS session."""

from __future__ import annotations

import hashlib
import os

from streamlines.aws import aws_session
from streamlines.settings import Settings
from streamlines.stack.manager import Stack


def test_s3_put_then_get_returns_the_same_bytes(stack: Stack, settings: Settings, unique_name):
    assert stack.status(["aws"])[0].state == "healthy"
    s3 = aws_session(settings).client("s3")
    s3.create_bucket(Bucket=unique_name)
    body = os.urandom(3 * 1024 * 1024 + 17)  # more than one multipart part of boto3's upload
    try:
        s3.put_object(Bucket=unique_name, Key="data/blob.bin", Body=body)
        got = s3.get_object(Bucket=unique_name, Key="data/blob.bin")
        assert got["ContentLength"] == len(body)
        assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(body).digest()
        listed = s3.list_objects_v2(Bucket=unique_name, Prefix="data/")
        assert [o["Key"] for o in listed["Contents"]] == ["data/blob.bin"]
    finally:
        s3.delete_object(Bucket=unique_name, Key="data/blob.bin")
        s3.delete_bucket(Bucket=unique_name)


def test_sagemakers_api_answers(stack: Stack, settings: Settings):
    sagemaker = aws_session(settings).client("sagemaker")
    answer = sagemaker.list_training_jobs(MaxResults=1)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "TrainingJobSummaries" in answer
