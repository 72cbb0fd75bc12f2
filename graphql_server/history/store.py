"""The store of gathered bars (bucket ``market``, measurement ``bars``; written by
``streamlines gather``, see ``streamlines.contracts.influx``)."""

from __future__ import annotations

from graphql_server.flux import FluxStore


class BarStore(FluxStore):
    """Reads gathered bars (``bars``, shared with the recompute of corrections)."""
