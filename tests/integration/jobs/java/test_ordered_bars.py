"""OrderedBars (jobs/java), the process table function that orders each symbol's bars by event
time and drops repeats of a millisecond, gives what the OVER-window SQL it replaces gives, on
real bars sent out of order, with repeats, with bars that come too late, and with one symbol's
bars years behind the other's (behind the watermark, but not late for their symbol).

Both run on a local mini-cluster over the same Kafka topic, the watermark emitted after every
record (``scan.watermark.emit.strategy = on-event``) so that which bars are late does not depend
on timing. Real data: GOOG and S&P 500 daily bars.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pandas as pd
import pytest

from connectors.sinks.kafka import ensure_topics
from jobs.common.functions import ORDERED_BARS_DDL
from jobs.common.kafka import kafka_json_source_options, with_options
from streamlines.contracts.events import Bar
from streamlines.datasets import load_bars
from tests.support.flink_sql import collect_sql
from tests.support.kafka import produce

# Daily bars: a bar more than this far behind the newest is behind the watermark.
OUT_OF_ORDERNESS = "3"

SOURCE_DDL = """CREATE TABLE bars_all (
  symbol STRING, t_ns BIGINT, `open` DOUBLE, high DOUBLE, low DOUBLE, `close` DOUBLE,
  volume DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(t_ns / 1000000, 3),
  WATERMARK FOR ts AS ts - INTERVAL '{days}' DAY
) WITH (
{options}
)"""

# What the jobs computed before the function (currents still does): the previous row's
# millisecond from a ROWS OVER window, and a filter.
OVER_QUERY = """SELECT symbol, t_ns, `open`, high, low, `close`, volume FROM (
  SELECT *,
    CASE WHEN COUNT(*) OVER w = 2 THEN FIRST_VALUE(t_ns / 1000000) OVER w END AS previous_ms
  FROM bars_all
  WINDOW w AS (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
)
WHERE previous_ms IS NULL OR previous_ms <> t_ns / 1000000"""

FUNCTION_QUERY = """SELECT symbol, t_ns, `open`, high, low, `close`, volume
FROM ordered_bars(input => TABLE bars_all PARTITION BY symbol)"""


def real_bars(symbol: str, dataset: str, count: int) -> list[Bar]:
    frame = load_bars(dataset).iloc[:count]
    return [
        Bar(symbol=symbol, timeframe="1Day", t_ns=pd.Timestamp(when).value, open=row.open,
            high=row.high, low=row.low, close=row.close, volume=row.volume)
        for when, row in zip(frame.index, frame.itertuples(), strict=True)
    ]  # fmt: skip


def shuffled(bars: list[Bar], rng: random.Random) -> list[Bar]:
    """``bars`` in a disorderly arrival order: a fifth held back by up to 8 places (some behind
    the watermark then), and one in twenty sent again up to 20 places later, with another
    volume (a repeat: the first to arrive must win)."""
    keyed = [
        (i + (rng.randint(1, 8) if rng.random() < 0.2 else 0), i, bar) for i, bar in enumerate(bars)
    ]
    for i, bar in enumerate(bars):
        if rng.random() < 0.05:
            keyed.append((i + rng.randint(0, 20), i, bar.model_copy(update={"volume": 1.0})))
    return [bar for _, _, bar in sorted(keyed, key=lambda k: (k[0], k[1]))]


def per_symbol(rows: list[list[Any]]) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for row in rows:
        out.setdefault(str(row[0]), []).append(row)
    return out


@pytest.mark.usefixtures("stack")  # its topics are on the stack's Kafka
def test_the_function_gives_what_the_over_window_gives(settings):
    rng = random.Random(20261205)
    goog = shuffled(real_bars("GOOG", "GOOG", 600), rng)
    spx = shuffled(real_bars("SP500", "SP500", 600), rng)
    sent: list[Bar] = [bar for pair in zip(goog, spx, strict=False) for bar in pair]
    sent += goog[len(spx) :] + spx[len(goog) :]
    topic = f"test-ordered-bars-{uuid.uuid4().hex[:8]}"
    ensure_topics(settings.kafka_bootstrap, [topic], partitions=1)
    produce(settings.kafka_bootstrap, topic, sent)

    def run(query: str) -> list[list[Any]]:
        options = kafka_json_source_options(
            settings.kafka_bootstrap, topic, f"{topic}-{uuid.uuid4().hex[:6]}",
            startup_mode="earliest-offset", bounded=True,
        )  # fmt: skip
        options["scan.watermark.emit.strategy"] = "on-event"
        source = SOURCE_DDL.format(days=OUT_OF_ORDERNESS, options=with_options(options))
        return collect_sql([source, ORDERED_BARS_DDL], query)

    expected, got = per_symbol(run(OVER_QUERY)), per_symbol(run(FUNCTION_QUERY))
    assert set(got) == {"GOOG", "SP500"}
    assert got == expected
    for symbol, rows in got.items():
        times = [row[1] for row in rows]
        assert times == sorted(set(times)), f"{symbol}: not in order, or a millisecond twice"
        first_sent: dict[int, float] = {}
        for bar in (b for b in sent if b.symbol == symbol):
            first_sent.setdefault(bar.t_ns, bar.volume)
        assert all(row[6] == first_sent[row[1]] for row in rows), "a repeat won over the first"
        arrived_late = len(first_sent) - len(rows)
        assert 0 < arrived_late < len(first_sent) // 4, f"{symbol}: {arrived_late} bars late"
    # Some bars that came after a later bar of their symbol are in: the function ordered them.
    held_back = {bar.t_ns for i, bar in enumerate(goog) if any(b.t_ns > bar.t_ns for b in goog[:i])}
    assert held_back & {row[1] for row in got["GOOG"]}
