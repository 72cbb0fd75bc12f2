"""Volatility rounds as they arrive live: the currents job writes one ``volatility_24h`` record
per symbol and round, all with the round's time, in a burst. ``RankingRounds`` gathers them into
the latest round; a record of an older round (a repeat after a restart) is ignored."""

from __future__ import annotations

from graphql_server.flux import Row
from streamlines.contracts.events import AnalyticsRecord


class RankingRounds:
    def __init__(self) -> None:
        self.t_ns: int | None = None
        self._rows: dict[str, Row] = {}

    def add(self, records: list[AnalyticsRecord]) -> bool:
        """Take records in; True when the latest round changed (a new round, or more of it)."""
        changed = False
        for record in records:
            if self.t_ns is not None and record.t_ns < self.t_ns:
                continue
            if self.t_ns is None or record.t_ns > self.t_ns:
                self.t_ns = record.t_ns
                self._rows = {}
            self._rows[record.symbol] = Row(
                t_ns=record.t_ns,
                symbol=record.symbol,
                values={k: v for k, v in record.values.items() if v is not None},
                metric=record.metric,
            )
            changed = True
        return changed

    def rows(self) -> list[Row]:
        """Every symbol's record of the latest round."""
        return list(self._rows.values())
