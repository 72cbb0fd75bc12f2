"""beacons: fundamentals against prices, per symbol and trading day (PyFlink: Flink SQL for the
sources, the daily closes and the join with the index; Python for the per-symbol book).

Reads daily bars from the history topic ``market.bars.history`` (``HistoryBar``, written by
``streamlines gather``) and fundamentals from ``market.fundamentals`` (``Fundamental``, written
by ``streamlines gather fundamentals``), both from their beginning; ``--bounded`` stops at the
offsets they had at start. Writes ``analytics.beacons`` (``{"symbol", "metric", "t_ns",
"values"}`` keyed by symbol), which ``streamlines sink influx --topic analytics.beacons`` stores
in measurement ``beacons``:

``valuation_1Day`` at each daily bar's ``t_ns``
    ``close`` (as traded), ``pe`` = close / earnings_ttm, ``earnings_yield`` = earnings_ttm /
    close, ``dividend_yield`` = dividend_ttm / close, ``price_sales`` = close / sales_ttm,
    ``cape`` = close / earnings_10y, and the facts used. Each fact is the latest value whose
    ``t_ns`` (when it became valid) is on or before the bar's start — never a later one: an
    event-time temporal join, as a lookup in the book. A value is null where its fact is not
    known; a day with no fact at all has no record.
``event_<kind>`` (kind ``earnings``, ``dividend``, ``split``) at day 0's bar ``t_ns``
    Day 0 is the first trading day whose close (16:00 New York) is after the event's ``t_ns``:
    an announcement after the close reacts the next trading day. ``move`` = day 0's close over
    day -1's, minus 1; for each window ``0_1`` (days 0..+1) and ``m1_5`` (days -1..+5):
    ``return_<w>`` = the close at the window's last day over the close the day before its
    first, minus 1; ``index_return_<w>`` the same for the index (``--index``, default SP500)
    on the same dates; ``abnormal_<w>`` = the difference (market-adjusted abnormal return).
    Returns use adjusted closes (splits and dividends). Also ``event_t_ns``, ``value`` and
    ``estimate``. A value is null until the bars it needs are there.
``event_study_<kind>_<w>`` at day 0 of each event
    Over the symbol's events of that kind up to this one (those with a known abnormal
    return): ``count``, ``mean``, ``median``, ``std`` (sample, null for one), ``min``, ``max``,
    ``t_stat`` = mean / (std / sqrt(count)). The latest record is the study as it stands.

Bad input goes to ``market.fundamentals.dlq`` with the reason, as received, and the job goes
on: a record that does not fit the schema (a missing or unknown field, a negative share
count, not JSON) or is valid from the future is refused as it arrives; one that repeats a
known (symbol, fact, t_ns) with a different value and no higher ``revision`` is refused by the
book. A higher revision is a restatement: it replaces the value, and the days it covers (from
its ``t_ns`` to the next value of that fact) are written again, no others. A late input
(a bar or a fact that arrives after later ones) is placed where it belongs the same way.

The topic is an upsert stream: ``(symbol, metric, t_ns)`` identifies a record and a later one
replaces it (InfluxDB overwrites the point). Inputs are coalesced in the book and its changed
records written every ``--flush-interval`` seconds of processing time and once more when a
bounded run has read everything, so a backfill writes each record about once.

Why the book is Python: SQL's event-time temporal join emits each day once, when the
watermark passes it, and never revisits it, so a restatement or a late fact could not change
the days it covers; and event windows count trading days, which needs the symbol's ordered
days. The book keeps a symbol's daily closes, the index's closes on those days and its
fundamentals (a few thousand rows per symbol for 20 years of daily bars). The join of each
symbol's closes with the index's is SQL (a regular join on the day).

Runs as ``flink run -py jobs/beacons/__main__.py --bootstrap HOST:PORT [...]``, as
``streamlines jobs submit beacons``, or as ``python -m jobs.beacons --local`` on a
mini-cluster (``--print-sql`` prints its SQL). See docs/beacons.md for the data.
"""
