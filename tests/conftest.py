"""Shared test set-up: tests/integration and tests/e2e need the real local stack."""

from __future__ import annotations

import re
import uuid

import pytest


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A name no other test (or earlier run) uses: for topics, buckets, streams."""
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]
    return f"t-{base}-{uuid.uuid4().hex[:8]}"
