"""The server's garbage collector settings."""

import gc
from collections.abc import Iterator

import pytest

from streamlines.garbage_collection import THRESHOLDS, settle_garbage_collection


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_start_up_objects_are_frozen_and_the_first_threshold_raised(restored_gc):
    held = [object() for _ in range(10)]  # something start-up made and keeps
    settle_garbage_collection()
    assert gc.get_freeze_count() > 0
    assert not any(obj is held for obj in gc.get_objects())  # no longer walked
    assert gc.get_threshold() == THRESHOLDS
    assert THRESHOLDS[0] > 700
