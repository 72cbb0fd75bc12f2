"""The store of gathered bars (bucket ``market``, measurement ``bars``; written by
``streamlines gather``, see ``streamlines.contracts.influx``). Long series for downsampling are
read as columns by ``graphql_server.columns``."""

from __future__ import annotations

from graphql_server.flux import FluxStore


class BarStore(FluxStore):
    """Reads gathered bars (``bars``, shared with the recompute of corrections)."""
