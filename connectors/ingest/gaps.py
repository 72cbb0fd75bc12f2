"""Filling a stream's gap after a reconnect. Live Alpaca does not resume a stream: what was
sent while the connection was down is gone. So, per stream, ingest remembers the time of the
last trade and quote of each symbol; after a reconnect the first live trade or quote marks where
the stream resumed, and the trades and quotes in between are fetched from the historical REST
API (``connectors.ingest.history``) on a worker thread and routed like the stream's.

The edges overlap on purpose: trades from the last one before the gap to the first one after
it, both included, with every trade the stream already sent skipped by its id (``TradeIds``);
quotes carry no id, so only those strictly between the two times are fetched."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass

from connectors.alpaca.normalize import event_time_ns
from connectors.alpaca.stream import Outage
from connectors.ingest.history import History, Row
from connectors.ingest.router import Router
from streamlines.contracts.events import Event
from streamlines.contracts.time import rfc3339_ns

log = logging.getLogger(__name__)

_KINDS = {"trade": "t", "quote": "q"}


@dataclass(frozen=True)
class GapReport:
    stream: str
    lost_at_ns: int
    reconnect_seconds: float
    resumed_at_ns: int  # the event time of the first live trade or quote after the reconnect
    trades: int  # backfilled trades sent
    quotes: int
    duplicates: int  # fetched trades the stream had already sent
    rejected: int  # fetched rows that failed validation (dead-lettered)
    fill_seconds: float

    def line(self) -> str:
        lost = rfc3339_ns(self.lost_at_ns)
        return (
            f"{self.stream} websocket dropped at {lost}, reconnected in "
            f"{self.reconnect_seconds:.1f} s, backfilled {self.trades} trades and {self.quotes} "
            f"quotes up to {rfc3339_ns(self.resumed_at_ns)} in {self.fill_seconds:.1f} s, "
            f"{self.duplicates} duplicates skipped, {self.rejected} rejected"
        )


class GapFiller:
    """One stream's gaps: ``saw`` each live event, ``reconnected`` after each reconnect."""

    def __init__(
        self, symbols: list[str], history: History, router: Router, executor: Executor
    ) -> None:
        self.symbols = symbols
        self.history = history
        self.router = router
        self.executor = executor
        self.reports: list[GapReport] = []
        self._last: dict[tuple[str, str], int] = {}  # (t or q, symbol) -> last live event time
        self._pending: tuple[Outage, dict[tuple[str, str], int]] | None = None

    def reconnected(self, outage: Outage) -> None:
        """The stream is back (its event loop): the gap ends at the next live trade or quote."""
        self._pending = (outage, dict(self._last))

    def saw(self, event: Event) -> None:
        kind = _KINDS.get(event.kind)
        if kind is None:
            return
        key = (kind, event.symbol)
        if event.t_ns > self._last.get(key, 0):
            self._last[key] = event.t_ns
        if self._pending is not None:
            outage, before = self._pending
            self._pending = None
            self.executor.submit(self.router.guarded, self.fill, outage, before, event.t_ns)

    def fill(self, outage: Outage, before: dict[tuple[str, str], int], end_ns: int) -> GapReport:
        """Fetch and route the gap's trades and quotes (a worker thread)."""
        started = time.monotonic()
        if not before:
            log.warning(
                "%s stream reconnected before any event: nothing to backfill", outage.stream
            )
        stream_last = max(before.values(), default=end_ns)
        counts = {"sent t": 0, "sent q": 0, "duplicate": 0, "rejected": 0}
        for symbol in self.symbols if before else []:
            for kind in ("t", "q"):
                start = before.get((kind, symbol), stream_last)
                for row in self._rows(kind, symbol, start, end_ns):
                    outcome = self.router.route_backfilled(row)
                    counts[f"sent {kind}" if outcome == "sent" else outcome] += 1
        report = GapReport(
            outage.stream, outage.lost_at_ns, outage.seconds, end_ns, counts["sent t"],
            counts["sent q"], counts["duplicate"], counts["rejected"], time.monotonic() - started,
        )  # fmt: skip
        self.reports.append(report)
        log.warning("%s", report.line())
        return report

    def _rows(self, kind: str, symbol: str, start_ns: int, end_ns: int) -> list[Row]:
        try:
            rows = self.history.fetch(kind, symbol, start_ns, end_ns)
        except Exception as exc:  # the REST API's failure leaves the gap, it does not stop ingest
            log.error(
                "backfill of %s %s from %s to %s failed: %s; that part of the gap stays missing",
                symbol, "trades" if kind == "t" else "quotes", rfc3339_ns(start_ns),
                rfc3339_ns(end_ns), exc,
            )  # fmt: skip
            return []
        if kind == "t":
            return rows  # both edges included: repeats are skipped by trade id
        inside = []
        for row in rows:
            try:
                t = event_time_ns(row.get("t"))
            except ValueError:
                inside.append(row)  # invalid: the router dead-letters it with the reason
                continue
            if start_ns < t < end_ns:
                inside.append(row)
        return inside
