"""Volatility rounds gathered from live records, ranked as the query ranks a stored round."""

from graphql_server.flux import Row
from graphql_server.indicators.rounds import RankingRounds
from graphql_server.indicators.types import VolatilityMeasure, VolatilityRanking
from streamlines.contracts.events import AnalyticsRecord

T = 1_325_601_000_000_000_000
MINUTE = 60 * 10**9


def vol(symbol: str, t_ns: int, std: float | None, mean: float) -> AnalyticsRecord:
    rel = None if std is None else std / mean
    values = {"std": std, "mean": mean, "rel_std": rel, "count": 390.0}
    return AnalyticsRecord(symbol=symbol, metric="volatility_24h", t_ns=t_ns, values=values)


def test_a_round_is_its_records_and_a_later_round_replaces_it():
    rounds = RankingRounds()
    assert rounds.add([vol("GOOG", T, 2.0, 600.0), vol("SPY", T, 1.0, 130.0)])
    assert rounds.t_ns == T
    assert sorted(r.symbol for r in rounds.rows()) == ["GOOG", "SPY"]
    assert rounds.add([vol("AAPL", T, 3.0, 400.0)])  # more of the same round
    assert len(rounds.rows()) == 3
    assert rounds.add([vol("GOOG", T + MINUTE, 2.5, 601.0)])
    assert (rounds.t_ns, [r.symbol for r in rounds.rows()]) == (T + MINUTE, ["GOOG"])
    assert not rounds.add([vol("SPY", T, 1.0, 130.0)])  # an old round repeated: ignored
    assert rounds.t_ns == T + MINUTE


def test_a_live_round_ranks_as_the_stored_one_does():
    records = [vol("GOOG", T, 2.0, 600.0), vol("SPY", T, 1.0, 130.0), vol("X", T, None, 5.0)]
    rounds = RankingRounds()
    rounds.add(records)
    stored = [Row(T, r.symbol, {k: v for k, v in r.values.items() if v is not None})
              for r in records]  # fmt: skip
    for by in VolatilityMeasure:
        live = VolatilityRanking.build(T, rounds.rows(), by, 10)
        expected = VolatilityRanking.build(T, stored, by, 10)
        assert [(e.rank, e.symbol, e.std, e.rel_std) for e in live.entries] == [
            (e.rank, e.symbol, e.std, e.rel_std) for e in expected.entries
        ]
    ranking = VolatilityRanking.build(T, rounds.rows(), VolatilityMeasure.REL_STD, 2)
    assert [e.symbol for e in ranking.entries] == ["SPY", "GOOG"]  # 1/130 > 2/600
    assert ranking.symbols == 3
