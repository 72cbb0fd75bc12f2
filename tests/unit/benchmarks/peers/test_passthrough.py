"""benchmarks.peers.passthrough: the pass-through's SQL reads both topics bounded and copies
every field of trades and quotes, with no watermark (no event-time operator, no state)."""

from __future__ import annotations

from benchmarks.peers.passthrough import statements


def test_two_bounded_sources_two_sinks_two_inserts():
    ddl, inserts = statements("b:9092", "in-trades", "in-quotes", "out", "group")
    assert len(ddl) == 4
    sources = [d for d in ddl if "'scan.bounded.mode' = 'latest-offset'" in d]
    assert len(sources) == 2
    assert any("'topic' = 'in-trades'" in d for d in sources)
    assert any("'topic' = 'in-quotes'" in d for d in sources)
    assert sum("'topic' = 'out'" in d for d in ddl) == 2
    assert not any("WATERMARK" in d for d in ddl)
    assert inserts == [
        "INSERT INTO trades_out SELECT * FROM trades",
        "INSERT INTO quotes_out SELECT * FROM quotes",
    ]
