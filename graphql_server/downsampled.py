"""The bars a downsampled query keeps: every bar of the range read as columns (one lean Flux
query per field, side by side), then at most ``maxPoints`` of them picked by their close; the
same bars for ``series`` and ``indicators`` of the same arguments."""

from __future__ import annotations

import asyncio
from datetime import datetime

import numpy as np
import numpy.typing as npt

from graphql_server import validation
from graphql_server.column_data import align
from graphql_server.downsample import Downsample, Indices, downsample
from graphql_server.errors import QueryError
from graphql_server.flux import FluxStore
from graphql_server.scalars import BarTimeframe
from streamlines.settings import Settings

MAX_SOURCE_SETTING = "STREAMLINES_GRAPHQL_MAX_SOURCE_BARS"


def check_max_points(settings: Settings, max_points: int) -> None:
    if not 1 <= max_points <= settings.graphql_max_points:
        raise QueryError(
            f"maxPoints {max_points}: use a number from 1 to {settings.graphql_max_points:,} "
            "(the server's limit, STREAMLINES_GRAPHQL_MAX_POINTS), e.g. the chart's width in "
            "pixels"
        )


def source_window(
    settings: Settings, start: datetime, end: datetime | None, timeframe: BarTimeframe
) -> validation.TimeRange:
    """The range a downsampled query reads: up to STREAMLINES_GRAPHQL_MAX_SOURCE_BARS bars."""
    return validation.bar_range(
        start, end, timeframe, settings.graphql_max_source_bars, setting=MAX_SOURCE_SETTING
    )


async def picked_bars(
    settings: Settings,
    store: FluxStore,
    symbol: str,
    window: validation.TimeRange,
    timeframe: BarTimeframe,
    max_points: int,
    how: Downsample,
    fields: tuple[str, ...] = ("close",),
) -> tuple[npt.NDArray[np.int64], dict[str, np.ndarray], Indices]:
    """Every bar of ``window`` (its times and ``fields``, read side by side, one query each)
    and the indices of the at most ``max_points`` of them that ``how`` picks by the close."""
    check_max_points(settings, max_points)
    max_source = settings.graphql_max_source_bars
    wanted = fields if "close" in fields else ("close", *fields)
    found = await asyncio.gather(*(
        asyncio.to_thread(store.field_column, symbol, timeframe.value, field, window,
                          max_source + 1)
        for field in wanted
    ))  # fmt: skip
    t_ns, columns = align(dict(zip(wanted, found, strict=True)))
    if len(t_ns) > max_source:
        raise QueryError(
            f"more than {max_source:,} bars in that range to downsample (the server's limit, "
            f"{MAX_SOURCE_SETTING}): ask for a shorter range"
        )
    return t_ns, columns, downsample(t_ns, columns["close"], max_points, how)
