from __future__ import annotations

from connectors.ingest.trade_ids import TradeIds
from streamlines.contracts.events import Trade


def trade(i: int, t_ns: int, exchange: str = "V") -> Trade:
    return Trade(symbol="GOOG", t_ns=t_ns, price=1.0, size=1.0, trade_id=i, exchange=exchange)


def test_a_repeated_id_is_caught_per_exchange_and_forgotten_after_the_memory():
    ids = TradeIds(memory_ns=100)
    assert ids.first_sight(trade(1, 1_000))
    assert not ids.first_sight(trade(1, 1_000))
    assert ids.first_sight(trade(1, 1_000, exchange="Q")), "another exchange's id 1"
    assert ids.first_sight(trade(2, 1_200))  # id 1 is now more than 100 ns behind: forgotten
    assert len(ids) == 1
    assert ids.first_sight(trade(1, 1_000))
