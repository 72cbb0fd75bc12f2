"""streamlines.stack.services.kafka: the cluster id it formats the storage with."""

from __future__ import annotations

import uuid

import pytest

from streamlines.stack.services import kafka
from streamlines.stack.services.kafka import new_cluster_id


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xF8 encodes to "-" first in URL-safe base64: the storage tool took such an id for an
    # option and the format failed (one start in 64).
    drawn = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x01" * 16)])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(drawn))
    cluster_id = new_cluster_id()
    assert cluster_id == "AQEBAQEBAQEBAQEBAQEBAQ"


def test_cluster_ids_are_22_url_safe_characters() -> None:
    ids = {new_cluster_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
