from __future__ import annotations

import math

import msgpack

from connectors.replay.hostile import KINDS, HostileMessages
from connectors.replay.protocol import quote, trade


def test_each_kind_in_turn_built_from_the_last_good_messages():
    hostile = HostileMessages()
    assert not hostile.ready
    good = trade("GOOG", 1_325_601_000_000_000_000, 7, 580.5, 100, stock=True)
    hostile.saw(good)
    hostile.saw(quote("GOOG", 1_325_601_000_000_000_000, 580.0, 1, 580.5, 1, stock=True))
    made = dict(hostile.make() for _ in KINDS)
    assert set(made) == set(KINDS)
    assert all(m["hostile"] == k for k, m in made.items())
    assert made["wrong_type"]["p"] == "580.5"
    assert math.isnan(made["nan_price"]["p"])
    assert made["zero_size"]["s"] == 0
    assert len(made["huge_symbol"]["S"]) == 10_000
    assert made["crossed_quote"]["bp"] > made["crossed_quote"]["ap"]
    assert made["duplicate"] == {**good, "hostile": "duplicate"}
    assert "p" not in made["missing_field"]
    assert isinstance(made["future_time"]["t"], msgpack.Timestamp)
