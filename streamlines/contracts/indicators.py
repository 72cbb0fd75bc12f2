"""The currents job's per-bar indicators on the wire: one record per bar, every family in it.

The currents job computes five indicator families at every bar of a series (``sma``, ``ema``,
``rsi``, ``macd``, ``bollinger``). It writes them as one ``AnalyticsRecord`` per bar, metric
``indicators_<timeframe>``, whose values are keyed ``<family>.<field>`` (``sma.sma_20``,
``macd.histogram``, ``bollinger.upper``), at every bar of the series, its first included
(values still warming up are null or absent). One record instead of five: a consumer that
joins the indicators to their bars (narwhal) takes a fifth of the records, and the job writes
a fifth of them.

Stored and served per family, as before: ``expand`` gives the records of the families that
have a known value at that bar (``sma_1Day`` with ``sma_20``, ...), which is what the InfluxDB
sink stores, the GraphQL server's live hub keeps and a reader compares. A family is absent
while all its values are still warming up, so "a family's record is written once one of its
values is known" holds for the stored records. The crossover and volatility records, written
at flips and every minute rather than at every bar, stay records of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from streamlines.contracts.events import AnalyticsRecord, SchemaError
from streamlines.contracts.metrics import indicator_metric

INDICATORS = "indicators"  # the metric stem of a per-bar record
FAMILIES = ("sma", "ema", "rsi", "macd", "bollinger")
SEPARATOR = "."

Values = Mapping[str, float | int | None]


def indicators_metric(timeframe: str) -> str:
    """The metric of a per-bar record, e.g. ``indicators_1Day``."""
    return indicator_metric(INDICATORS, timeframe)


def field_key(family: str, field: str) -> str:
    """A value's key in a per-bar record, e.g. ``bollinger.upper``."""
    return f"{family}{SEPARATOR}{field}"


def compact_values(families: Iterable[tuple[str, Values]]) -> dict[str, float | int | None]:
    """The values of one per-bar record from each family's ``(family, values)``."""
    return {
        field_key(family, field): value
        for family, values in families
        for field, value in values.items()
    }


def is_indicators(metric: str) -> bool:
    return metric.startswith(INDICATORS + "_")


def expand(record: AnalyticsRecord) -> list[AnalyticsRecord]:
    """A per-bar record as the records of its families with a known value (in ``FAMILIES``
    order, metric ``<family>_<timeframe>``); any other record as itself. ``SchemaError`` for a
    per-bar record with a key that is not ``<family>.<field>``."""
    if not is_indicators(record.metric):
        return [record]
    timeframe = record.metric.removeprefix(INDICATORS + "_")
    by_family: dict[str, dict[str, float | int | None]] = {}
    for key, value in record.values.items():
        family, _, field = key.partition(SEPARATOR)
        if not family or not field:
            raise SchemaError(
                f"values: {key!r} in an {INDICATORS} record is not <family>{SEPARATOR}<field>"
            )
        by_family.setdefault(family, {})[field] = value
    return [
        AnalyticsRecord(
            symbol=record.symbol,
            t_ns=record.t_ns,
            metric=indicator_metric(family, timeframe),
            values=values,
        )
        for family, values in sorted(by_family.items(), key=_family_order)
        if any(v is not None for v in values.values())
    ]


def _family_order(item: tuple[str, object]) -> tuple[int, str]:
    family = item[0]
    return (FAMILIES.index(family) if family in FAMILIES else len(FAMILIES), family)
