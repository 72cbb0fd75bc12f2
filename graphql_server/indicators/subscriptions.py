"""The live currents subscriptions: a symbol's indicators, crossover signals, and the volatility
ranking of each round, from the currents job's topic."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import strawberry
from strawberry.types import Info

from graphql_server import validation
from graphql_server.auth import public_read
from graphql_server.context import service
from graphql_server.errors import QueryError
from graphql_server.fanout import shared
from graphql_server.indicators.live import CurrentsHub
from graphql_server.indicators.queries import check_ranking_limit
from graphql_server.indicators.rounds import RankingRounds
from graphql_server.indicators.types import (
    Indicator,
    IndicatorPoint,
    Signal,
    VolatilityMeasure,
    VolatilityRanking,
    crossover_timeframe,
)
from graphql_server.live import SubscriberTooSlow, settled
from graphql_server.scalars import BarTimeframe
from streamlines.contracts.metrics import METRIC_VOLATILITY, indicator_metric

# How long a round of the ranking may take to arrive: records within this of each other are
# one update (the job writes a round's records together).
ROUND_SETTLE_S = 0.25
MAX_ROUND_BATCH = 5_000


@strawberry.type
class IndicatorsSubscription:
    @strawberry.subscription(
        description="Live indicators of one symbol at one timeframe (every family, or those in "
        "`names`) as the currents job computes them at each bar: first the latest value the "
        "server has of each, then every update."
    )
    async def indicators(
        self,
        info: Info,
        symbol: str,
        timeframe: BarTimeframe = BarTimeframe.DAY_1,
        names: list[Indicator] | None = None,
    ) -> AsyncGenerator[IndicatorPoint, None]:
        public_read(info)
        wanted = validation.symbol(symbol)
        if names is not None and not names:
            raise QueryError("no indicator names: pass some, e.g. names: [SMA, RSI], or leave "
                             "names out for all")  # fmt: skip
        metrics = {indicator_metric(n.value, timeframe.value): n for n in names or list(Indicator)}
        try:
            async for record in service(info, CurrentsHub).subscribe([wanted], list(metrics)):
                point = partial(IndicatorPoint.from_record, name=metrics[record.metric],
                                timeframe=timeframe)  # fmt: skip
                yield shared(record, point, extra=timeframe)
        except SubscriberTooSlow as exc:
            raise QueryError(str(exc)) from None

    @strawberry.subscription(
        description="Live moving-average crossover signals of these symbols (of one timeframe, "
        "or all): first the latest state the server has of each pair, then each flip as the "
        "currents job writes it."
    )
    async def signals(
        self, info: Info, symbols: list[str], timeframe: BarTimeframe | None = None
    ) -> AsyncGenerator[Signal, None]:
        public_read(info)
        wanted = validation.symbols(symbols)

        def crossover(metric: str) -> bool:
            found = crossover_timeframe(metric)
            return found is not None and (timeframe is None or found is timeframe)

        try:
            async for record in service(info, CurrentsHub).subscribe(wanted, crossover):
                found = crossover_timeframe(record.metric)
                assert found is not None  # the hub sends crossovers only
                yield shared(record, partial(Signal.from_record, timeframe=found))
        except SubscriberTooSlow as exc:
            raise QueryError(str(exc)) from None

    @strawberry.subscription(
        description="The volatility ranking of each round as the currents job writes it "
        "(every minute): first the latest round the server has, then each new one; every "
        "entry of a ranking shares its updatedAt. A round that arrives in parts is sent again "
        "with the parts that came later."
    )
    async def volatility_ranking(
        self, info: Info, limit: int = 20, by: VolatilityMeasure = VolatilityMeasure.REL_STD
    ) -> AsyncGenerator[VolatilityRanking, None]:
        public_read(info)
        check_ranking_limit(limit)
        rounds = RankingRounds()
        hub = service(info, CurrentsHub)
        batches = hub.subscribe_batches(None, [METRIC_VOLATILITY], MAX_ROUND_BATCH)
        try:
            async for records in settled(batches, ROUND_SETTLE_S):
                if rounds.add(records) and rounds.t_ns is not None:
                    yield VolatilityRanking.build(rounds.t_ns, rounds.rows(), by, limit)
        except SubscriberTooSlow as exc:
            raise QueryError(str(exc)) from None
